// Payload parsing for the frame types a client receives, with the size and field checks of
// RFC 9113 section 6. Each throws H2ConnectionError for connection errors.
import { ErrorCode, Flag, MAX_ALLOWED_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE, MAX_WINDOW, Setting } from "./constants.ts";
import { H2ConnectionError } from "./errors.ts";

const conn = (code: number, msg: string) => new H2ConnectionError(code, msg);

export function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** 6.1 / 6.2: strips the Pad Length field and padding of a PADDED frame. */
export function unpad(payload: Uint8Array, flags: number, what: string): Uint8Array {
  if (!(flags & Flag.PADDED)) return payload;
  if (payload.length < 1) throw conn(ErrorCode.FRAME_SIZE_ERROR, `padded ${what} frame without a Pad Length`);
  const pad = payload[0]!;
  // "If the length of the padding is the length of the frame payload or greater, the recipient MUST
  // treat this as a connection error of type PROTOCOL_ERROR."
  if (pad >= payload.length) throw conn(ErrorCode.PROTOCOL_ERROR, `${what} padding (${pad}) not shorter than the payload (${payload.length})`);
  return payload.subarray(1, payload.length - pad);
}

/** 6.2: the field block fragment of a HEADERS frame (padding and priority fields removed). */
export function headersFragment(payload: Uint8Array, flags: number): Uint8Array {
  let p = unpad(payload, flags, "HEADERS");
  if (flags & Flag.PRIORITY) {
    if (p.length < 5) throw conn(ErrorCode.FRAME_SIZE_ERROR, "HEADERS with PRIORITY flag shorter than 5 bytes");
    p = p.subarray(5);
  }
  return p;
}

export interface PeerSettings {
  headerTableSize?: number;
  enablePush?: number;
  maxConcurrentStreams?: number;
  initialWindowSize?: number;
  maxFrameSize?: number;
  maxHeaderListSize?: number;
}

/** 6.5: a SETTINGS payload, validated (6.5.2); unknown identifiers are ignored. */
export function parseSettings(payload: Uint8Array): PeerSettings {
  if (payload.length % 6 !== 0) throw conn(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS length ${payload.length} is not a multiple of 6`);
  const s: PeerSettings = {};
  for (let p = 0; p < payload.length; p += 6) {
    const id = (payload[p]! << 8) | payload[p + 1]!;
    const v = u32(payload, p + 2);
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        s.headerTableSize = v;
        break;
      case Setting.ENABLE_PUSH:
        if (v > 1) throw conn(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${v}`);
        // A server "MUST NOT" send 1 (8.4); we tolerate it: push stays off because we sent 0.
        s.enablePush = v;
        break;
      case Setting.MAX_CONCURRENT_STREAMS:
        s.maxConcurrentStreams = v;
        break;
      case Setting.INITIAL_WINDOW_SIZE:
        if (v > MAX_WINDOW) throw conn(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${v} above 2^31-1`);
        s.initialWindowSize = v;
        break;
      case Setting.MAX_FRAME_SIZE:
        if (v < DEFAULT_MAX_FRAME_SIZE || v > MAX_ALLOWED_FRAME_SIZE) throw conn(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${v} outside [2^14, 2^24-1]`);
        s.maxFrameSize = v;
        break;
      case Setting.MAX_HEADER_LIST_SIZE:
        s.maxHeaderListSize = v;
        break;
      default:
        break; // 6.5.2: unknown settings MUST be ignored
    }
  }
  return s;
}

/** 6.8: GOAWAY payload. */
export function parseGoaway(payload: Uint8Array): { lastStreamId: number; code: number; debug: string } {
  if (payload.length < 8) throw conn(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY of ${payload.length} bytes`);
  const debug = payload.length > 8 ? new TextDecoder().decode(payload.subarray(8, Math.min(payload.length, 8 + 256))) : "";
  return { lastStreamId: u32(payload, 0) & 0x7fffffff, code: u32(payload, 4), debug };
}
