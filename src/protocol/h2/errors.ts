// Errors raised by the codec and the session; `code` is the RFC 9113 section 7 error code to send.
import { errorCodeName } from "./constants.ts";

/** A connection error (RFC 9113 5.4.1): the connection ends with GOAWAY carrying `code`. */
export class H2ConnectionError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(`HTTP/2 ${errorCodeName(code)}: ${message}`);
    this.name = "H2ConnectionError";
    this.code = code;
  }
}

/** HPACK decoding failure: a connection error of type COMPRESSION_ERROR (RFC 7541 2.3.3, RFC 9113 4.3). */
export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = "HpackError";
  }
}
