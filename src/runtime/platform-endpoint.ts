/**
 * How a function reaches cellfn's own APIs with an unconfigured AWS SDK.
 *
 * The environment names one fixed internal host in the service-specific
 * endpoint variables the SDK v3 reads (`AWS_ENDPOINT_URL_<serviceId in upper
 * case, spaces as _>`, @smithy/core getEndpointUrlConfig). Only the services
 * cellfn serves are named: an S3 or DynamoDB client still goes to AWS as
 * written (no global AWS_ENDPOINT_URL). The egress gateway recognises the
 * host and hands the request to this Worker's own fetch handler: it never
 * leaves for the network, and no DNS name has to exist.
 */

/** Host of cellfn's APIs as seen from inside a function. Not resolvable outside. */
export const PLATFORM_HOST = "cellfn.internal";
export const PLATFORM_ENDPOINT = `https://${PLATFORM_HOST}`;

/** Service ids (as in the SDK's client models) whose APIs cellfn serves. */
const SERVED_SERVICE_IDS = ["Lambda", "SQS", "Kinesis", "CloudWatch Logs"];

/** AWS_ENDPOINT_URL_LAMBDA, _SQS, _KINESIS, _CLOUDWATCH_LOGS → the platform endpoint. */
export const ENDPOINT_VARIABLES: Record<string, string> = Object.fromEntries(
  SERVED_SERVICE_IDS.map((id) => [`AWS_ENDPOINT_URL_${id.toUpperCase().replaceAll(" ", "_")}`, PLATFORM_ENDPOINT]),
);
