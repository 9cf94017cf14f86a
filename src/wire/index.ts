/**
 * What goes on the wire, shared by http/ and mcp/ (both import it; it imports neither): the one
 * table of wire codes, the error renderers, and the capped body readers.
 */
export { HTTP_STATUS, JSON_RPC, WIRE_CODES, type WireCode } from './codes.js';
export {
  CLIENT_CLOSED_REQUEST,
  insufficientScopeResponse,
  jsonRpcErrorResponse,
  rateLimitedResponse,
  unauthorizedResponse,
  wireErrorResponse,
  type JsonRpcId,
} from './responses.js';
export { FORM_BODY_LIMIT, readFormBody, readJsonBody } from './read-body.js';
export { hasCommonHeaders, withCommonHeaders, type CommonHeaders } from './common-headers.js';
