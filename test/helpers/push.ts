// A gateway's push, as a real HTTP multipart request (undici FormData through fetch).
export interface PushOptions {
  metadata: Record<string, unknown> | string;
  images: Partial<Record<'image' | 'high' | 'low', Buffer>>;
  key?: string;
}

export async function pushScan(baseUrl: string, opts: PushOptions): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append('metadata', typeof opts.metadata === 'string' ? opts.metadata : JSON.stringify(opts.metadata));
  for (const [role, buf] of Object.entries(opts.images)) {
    if (buf) form.append(role, new Blob([new Uint8Array(buf)]), `${role}.bin`);
  }
  const res = await fetch(`${baseUrl}/v1/scans`, {
    method: 'POST',
    body: form,
    headers: opts.key ? { authorization: `Bearer ${opts.key}` } : {},
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getJson(baseUrl: string, path: string, key?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls until predicate holds or the deadline passes; returns the last value. */
export async function pollUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    v = await fn();
  }
  return v;
}
