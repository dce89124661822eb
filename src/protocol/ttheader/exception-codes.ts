import { GrpcCode } from "../../core/index.ts";
import { ExceptionType } from "./constants.ts";

/**
 * THE exception type id <-> gRPC code table (documented in README.md).
 * Routing errors (1 UnknownMethod, 20 UnknownService, 21 NoServiceName) are
 * UNIMPLEMENTED whatever the message says: Kitex versions disagree on type and
 * text (§12.2). Handler errors (6) and codec/protocol failures are INTERNAL;
 * 0 and ids we do not know are UNKNOWN.
 */
const TABLE: ReadonlyArray<readonly [typeId: number, name: string, code: GrpcCode]> = [
  [ExceptionType.unknown, "Unknown", GrpcCode.UNKNOWN],
  [ExceptionType.unknownMethod, "UnknownMethod", GrpcCode.UNIMPLEMENTED],
  [ExceptionType.invalidMessageType, "InvalidMessageType", GrpcCode.INTERNAL],
  [ExceptionType.wrongMethodName, "WrongMethodName", GrpcCode.INTERNAL],
  [ExceptionType.badSequenceId, "BadSequenceID", GrpcCode.INTERNAL],
  [ExceptionType.missingResult, "MissingResult", GrpcCode.INTERNAL],
  [ExceptionType.internalError, "InternalError", GrpcCode.INTERNAL],
  [ExceptionType.protocolError, "ProtocolError", GrpcCode.INTERNAL],
  [ExceptionType.invalidTransform, "InvalidTransform", GrpcCode.INTERNAL],
  [ExceptionType.invalidProtocol, "InvalidProtocol", GrpcCode.INTERNAL],
  [ExceptionType.unsupportedClientType, "UnsupportedClientType", GrpcCode.INTERNAL],
  [ExceptionType.unknownService, "UnknownService", GrpcCode.UNIMPLEMENTED],
  [ExceptionType.noServiceName, "NoServiceName", GrpcCode.UNIMPLEMENTED],
];

const BY_ID = new Map(TABLE.map(([id, name, code]) => [id, { name, code }]));

/** gRPC code for an exception a TTHeader server sent. */
export function grpcCodeForException(typeId: number): GrpcCode {
  return BY_ID.get(typeId)?.code ?? GrpcCode.UNKNOWN;
}

export function exceptionTypeName(typeId: number): string {
  return BY_ID.get(typeId)?.name ?? `Type${typeId}`;
}

/**
 * Exception type id our server sends for a gRPC code. The wire has no room for
 * gRPC codes, so this is lossy: UNIMPLEMENTED -> UnknownMethod (maps back to
 * UNIMPLEMENTED), UNKNOWN -> Unknown, everything else -> InternalError (what a
 * Kitex handler's plain error becomes, §12.1).
 */
export function exceptionTypeForGrpcCode(code: GrpcCode): number {
  if (code === GrpcCode.UNIMPLEMENTED) return ExceptionType.unknownMethod;
  if (code === GrpcCode.UNKNOWN) return ExceptionType.unknown;
  return ExceptionType.internalError;
}
