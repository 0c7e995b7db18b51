/**
 * @gan/auth: the run secret and everything derived from it (the gRPC token, the data link's handshake, the
 * collective's job id), and the one credentials path both planes of a run take their credentials from.
 */
export { RunSecret, sameText } from './run-secret';
export { TokenGate, tokenClientInterceptor, type RefusalLog } from './rpc-auth';
export { RunCredentials, type CredentialOptions, type CredentialsTransfer, type TlsFiles } from './run-credentials';
export { NONCE_BYTES, newNonce, helloMac, checkHelloMac, welcomeMac, checkWelcomeMac, type HelloFields } from './data-handshake';
export { haveOpenssl, makeTestCertificates } from './test-certificates';
