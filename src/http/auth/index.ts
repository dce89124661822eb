export { createJwtVerifier } from "./verifier.ts";
export { extractBearer, formatWwwAuthenticate, type BearerExtraction, type ChallengeParams } from "./bearer.ts";
export { checkRequirement, claimMatches, readClaim, tokenScopes, type RequirementCheck } from "./claims.ts";
export {
  createClaimForwarder,
  claimHeaderName,
  type ClaimForwarder,
  type ClaimForwardingOptions,
} from "./forward-claims.ts";
export type {
  AsymmetricAlgorithm,
  AuthErrorCode,
  AuthFailureReason,
  AuthMode,
  AuthRequirement,
  AuthResult,
  ClaimMatch,
  HmacAlgorithm,
  JwksConfig,
  JwsAlgorithm,
  JwtClaims,
  JwtVerifier,
  JwtVerifierOptions,
  StaticKeyConfig,
} from "./types.ts";
