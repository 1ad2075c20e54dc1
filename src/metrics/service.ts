import type { JsonService } from "../aws-json/service";
import { queryThrottling } from "../aws-json/errors";
import { getMetricData, getMetricStatistics, listMetrics } from "./operations";

/**
 * CloudWatch metrics (API 2010-08-01) in the awsJson1_0 protocol, which
 * botocore (AWS CLI, boto3) chooses for CloudWatch: `X-Amz-Target:
 * GraniteServiceVersion20100801.<Operation>`, signed for `monitoring`.
 * SDK v3 speaks smithy-rpc-v2-cbor to the same operations (./cbor-routes.ts).
 */
export const cloudWatchService: JsonService = {
  targetPrefix: "GraniteServiceVersion20100801",
  signingName: "monitoring",
  contentType: "application/x-amz-json-1.0",
  errorTypePrefix: "com.amazonaws.cloudwatch#",
  throttled: queryThrottling,
  operations: {
    GetMetricStatistics: getMetricStatistics,
    GetMetricData: getMetricData,
    ListMetrics: listMetrics,
  },
};
