// DICOM reading without a server: attributes, 16-bit values kept, MONOCHROME1 inverted, frame 0 taken.
import { describe, expect, it } from 'vitest';
import { decodeImage, inspectImage, sniffFormat } from '../../pipeline/imaging.js';
import { dicomFile, TRANSFER_SYNTAX } from '../fixtures/dicom.js';

describe('DICOM decoding', () => {
  it('sniffs DICM at offset 128 and keeps 16-bit values of frame 0', async () => {
    const file = dicomFile({ width: 20, height: 10, frames: 2, pixel: (x, y, f) => (f === 0 ? 1000 + x * 100 + y : 7) });
    expect(sniffFormat(file.subarray(0, 132))).toBe('dicom');
    const info = await inspectImage(file, file.subarray(0, 132), 1e6);
    expect(info).toMatchObject({ format: 'dicom', width: 20, height: 10, channels: 1, bitDepth: 16, dicom: { frames: 2 } });
    const img = await decodeImage(file, { grey: true, maxPixels: 1e6 });
    expect(img.bitDepth).toBe(16);
    expect([img.data[0], img.data[3 * 20 + 5]]).toEqual([1000, 1000 + 500 + 3]);
  });

  it('inverts MONOCHROME1 and scales 12-bit samples to the 16-bit range', async () => {
    const m1 = await decodeImage(dicomFile({ width: 8, height: 8, photometric: 'MONOCHROME1', pixel: () => 100 }), { grey: true, maxPixels: 1e6 });
    expect(m1.data[0]).toBe(65535 - 100);
    const b12 = await decodeImage(dicomFile({ width: 8, height: 8, bitsStored: 12, pixel: () => 4095 }), { grey: true, maxPixels: 1e6 });
    expect(b12.data[0]).toBe(4095 << 4);
  });

  it('reads 8-bit and implicit-VR files; reads pixel spacing', async () => {
    const file = dicomFile({ width: 9, height: 8, bitsAllocated: 8, transferSyntax: TRANSFER_SYNTAX.implicitLittle, pixelSpacingMm: [0.4, 0.3], pixel: (x) => x * 20 });
    const info = await inspectImage(file, file.subarray(0, 132), 1e6);
    expect(info).toMatchObject({ bitDepth: 8, dicom: { pixelSpacingMm: [0.4, 0.3] } });
    const img = await decodeImage(file, { grey: true, maxPixels: 1e6 });
    expect(Array.from(img.data.subarray(0, 3))).toEqual([0, 20, 40]);
  });
});
