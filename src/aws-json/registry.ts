import { kinesisService } from "../kinesis/service";
import { logsService } from "../logs/service";
import { cloudWatchService } from "../metrics/service";
import { sqsService } from "../sqs/service";
import type { JsonService } from "./service";

/** Every JSON-protocol service cellfn serves, by `X-Amz-Target` prefix. */
export const JSON_SERVICES: readonly JsonService[] = [sqsService, kinesisService, logsService, cloudWatchService];
