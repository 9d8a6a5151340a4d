/**
 * The issuer checks a 2026-07-28 client makes (RFC 8414 §3.3, RFC 9207): the authorization server
 * metadata names the issuer it was discovered at, and an authorization response's `iss` is that
 * issuer exactly — present whenever the metadata says it will be, compared whenever present (a
 * variant that only normalizes to it is a mismatch). A mix-up or a forged redirect stops here,
 * before the code is exchanged.
 */
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';

const withoutSlash = (url: string) => url.replace(/\/$/, '');

/** Why the discovered metadata cannot be trusted, or undefined when it can. */
export function metadataIssuerProblem(discovery: OAuthDiscoveryState | undefined): string | undefined {
  const issuer = discovery?.authorizationServerMetadata?.issuer;
  if (!discovery || issuer === undefined) return undefined;
  // The one leniency: a trailing slash, which protected-resource metadata often adds or drops.
  if (withoutSlash(issuer) === withoutSlash(discovery.authorizationServerUrl)) return undefined;
  return `the authorization server's metadata names the issuer ${issuer}, not ${discovery.authorizationServerUrl} where it was found`;
}

/** Why an authorization response's `iss` is refused, or undefined when it is as it must be. */
export function responseIssuerProblem(discovery: OAuthDiscoveryState | undefined, iss: string | null): string | undefined {
  const metadata = discovery?.authorizationServerMetadata as
    { issuer?: string; authorization_response_iss_parameter_supported?: boolean } | undefined;
  const expected = metadata?.issuer ?? discovery?.authorizationServerUrl;
  if (iss === null)
    return metadata?.authorization_response_iss_parameter_supported === true
      ? `the authorization server says it names itself in the response (iss), and this one does not`
      : undefined;
  if (expected === undefined) return `the response names an issuer (${iss}), and mcpd does not know which to expect`;
  return iss === expected ? undefined : `the response comes from the issuer ${iss}, not ${expected}`;
}
