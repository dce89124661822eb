// Responses whose whole body the handler built as bytes: their size is remembered with them, so the
// request scope can count the bytes sent and tag the headers without reading the body back and
// building a second Response (bench/README.md: two Response objects and an await per request).
const sizes = new WeakMap<Response, number>();

/** `new Response(body, init)`, remembering the body's length. */
export function sizedResponse(body: Uint8Array, init: ResponseInit): Response {
  const res = new Response(body as Uint8Array<ArrayBuffer>, init);
  sizes.set(res, body.byteLength);
  return res;
}

/** The body length of a response made by sizedResponse; undefined for any other. */
export function knownBodySize(res: Response): number | undefined {
  return sizes.get(res);
}
