import type { JsonService } from "../aws-json/service";
import { throttlingException } from "../aws-json/errors";
import { filterLogEvents, getLogEvents, putLogEvents } from "./event-operations";
import {
  createLogGroup,
  createLogStream,
  deleteLogGroup,
  deleteRetentionPolicy,
  describeLogGroups,
  describeLogStreams,
  putRetentionPolicy,
} from "./group-operations";
import { startLiveTail } from "./live-tail";
import { getQueryResults, startQuery, stopQuery } from "./query-operations";

/**
 * CloudWatch Logs (API 2014-03-28, awsJson1_1), scoped to the calling
 * tenant. Function logs arrive through ./ingest.ts; users' own tools may
 * also create groups and streams and put events. Error `__type`s carry no
 * namespace prefix, as CloudWatch Logs answers them.
 */
export const logsService: JsonService = {
  targetPrefix: "Logs_20140328",
  signingName: "logs",
  contentType: "application/x-amz-json-1.1",
  errorTypePrefix: "",
  throttled: throttlingException,
  operations: {
    CreateLogGroup: createLogGroup,
    DeleteLogGroup: deleteLogGroup,
    DescribeLogGroups: describeLogGroups,
    PutRetentionPolicy: putRetentionPolicy,
    DeleteRetentionPolicy: deleteRetentionPolicy,
    CreateLogStream: createLogStream,
    DescribeLogStreams: describeLogStreams,
    PutLogEvents: putLogEvents,
    GetLogEvents: getLogEvents,
    FilterLogEvents: filterLogEvents,
    StartQuery: startQuery,
    GetQueryResults: getQueryResults,
    StopQuery: stopQuery,
    StartLiveTail: startLiveTail,
  },
};
