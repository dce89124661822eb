// gRPC status codes and the one gRPC <-> HTTP table.
// Source: https://github.com/grpc/grpc/blob/master/doc/statuscodes.md and
// https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md
// (HTTP -> gRPC for non-gRPC replies), CANCELLED -> 499 as in grpc-gateway.

export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];
export type GrpcCodeName = keyof typeof GrpcCode;

const NAMES: readonly GrpcCodeName[] = Object.keys(GrpcCode) as GrpcCodeName[];

/** HTTP status for each gRPC code, indexed by code number. */
const HTTP_FOR_CODE: readonly number[] = [
  200, // OK
  499, // CANCELLED
  500, // UNKNOWN
  400, // INVALID_ARGUMENT
  504, // DEADLINE_EXCEEDED
  404, // NOT_FOUND
  409, // ALREADY_EXISTS
  403, // PERMISSION_DENIED
  429, // RESOURCE_EXHAUSTED
  400, // FAILED_PRECONDITION
  409, // ABORTED
  400, // OUT_OF_RANGE
  501, // UNIMPLEMENTED
  500, // INTERNAL
  503, // UNAVAILABLE
  500, // DATA_LOSS
  401, // UNAUTHENTICATED
];

export function codeName(code: number): GrpcCodeName {
  return NAMES[code] ?? "UNKNOWN";
}

export function codeFromName(name: string): GrpcCode | undefined {
  const upper = name.toUpperCase() as GrpcCodeName;
  return Object.hasOwn(GrpcCode, upper) ? GrpcCode[upper] : undefined;
}

export function isGrpcCode(n: number): n is GrpcCode {
  return Number.isInteger(n) && n >= 0 && n <= 16;
}

export function httpStatusForCode(code: number): number {
  return HTTP_FOR_CODE[code] ?? 500;
}

/** gRPC code for an HTTP status seen where a gRPC reply was expected (http-grpc-status-mapping.md). */
export function codeForHttpStatus(status: number): GrpcCode {
  switch (status) {
    case 400: return GrpcCode.INTERNAL;
    case 401: return GrpcCode.UNAUTHENTICATED;
    case 403: return GrpcCode.PERMISSION_DENIED;
    case 404: return GrpcCode.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return GrpcCode.UNAVAILABLE;
    default: return GrpcCode.UNKNOWN;
  }
}
