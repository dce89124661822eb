// Responses whose whole body the handler built as bytes: their size is remembered with them (and the
// request id their headers already carry), so the request scope can count the bytes sent and tag the
// headers without reading the body back and building a second Response (bench/README.md: two
// Response objects and an await per request), and without a Headers edit when the id is already there
// (Headers edits are slow on Node: bench/README.md).
export interface KnownBody {
  readonly size: number;
  /** The x-request-id the response was built with, if any. */
  readonly requestId: string | undefined;
}

const known = new WeakMap<Response, KnownBody>();

/** `new Response(body, init)`, remembering the body's length and the request id set in `init.headers`. */
export function sizedResponse(body: Uint8Array, init: ResponseInit, requestId?: string): Response {
  const res = new Response(body as Uint8Array<ArrayBuffer>, init);
  known.set(res, { size: body.byteLength, requestId });
  return res;
}

/** What sizedResponse remembered; undefined for any other response. */
export function knownBody(res: Response): KnownBody | undefined {
  return known.get(res);
}
