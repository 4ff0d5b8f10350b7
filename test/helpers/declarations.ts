// Declarations as a declaration source sends them.
export const tyreDeclaration = (declarationId: string, containerNo: string, extra: Record<string, unknown> = {}) => ({
  declarationId,
  containers: [{ containerNo, sealNo: 'CN1234567', tareKg: 3800 }],
  lines: [{ hsCode: '4011100000', description: 'new pneumatic tyres for cars', quantity: 800, unit: 'pcs', grossKg: 9000 }],
  enterprise: { id: 'ENT-0001', name: 'Qingdao Tyre Export Co.', creditLevel: 'aeo-advanced' },
  perishable: false,
  ...extra,
});

export async function putDeclaration(baseUrl: string, key: string, body: Record<string, unknown>, id = String(body.declarationId)) {
  const res = await fetch(`${baseUrl}/v1/declarations/${encodeURIComponent(id)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
