import { AwsJsonError } from "../aws-json/errors";

/**
 * CloudWatch's errors and request members. CloudWatch is an
 * awsQueryCompatible service: besides `__type` every error carries the
 * query protocol's code in `x-amzn-query-error` (`InvalidParameterValue;Sender`),
 * which botocore and the SDKs report as the error code.
 */
export function invalidValue(message: string): AwsJsonError {
  return new AwsJsonError(400, "InvalidParameterValueException", message, "InvalidParameterValue;Sender");
}

export function missingParameter(name: string): AwsJsonError {
  return new AwsJsonError(400, "MissingRequiredParameterException", `The parameter ${name} is required.`, "MissingParameter;Sender");
}

export function invalidCombination(message: string): AwsJsonError {
  return new AwsJsonError(400, "InvalidParameterCombinationException", message, "InvalidParameterCombination;Sender");
}

export function invalidNextToken(): AwsJsonError {
  return new AwsJsonError(400, "InvalidNextToken", "The service couldn't process the NextToken.", "InvalidNextToken;Sender");
}

function wrongType(name: string, expected: string): AwsJsonError {
  return new AwsJsonError(400, "SerializationException", `Expected ${expected} for '${name}'`);
}

/** Reads members of a CloudWatch request; `path` names nested members in errors (`MetricDataQueries.member.1.Id`). */
export class MetricsInput {
  readonly #body: Record<string, unknown>;
  readonly #path: string;

  constructor(body: Record<string, unknown>, path = "") {
    this.#body = body;
    this.#path = path;
  }

  #name(member: string): string {
    return this.#path ? `${this.#path}.${member}` : member;
  }

  #present(member: string, required: boolean): unknown {
    const value = this.#body[member];
    if (value === undefined || value === null) {
      if (required) throw missingParameter(this.#name(member));
      return undefined;
    }
    return value;
  }

  string(member: string, rule: { required?: boolean; min?: number; max?: number } = {}): string | undefined {
    const value = this.#present(member, rule.required === true);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw wrongType(this.#name(member), "string");
    if ((rule.min !== undefined && value.length < rule.min) || (rule.max !== undefined && value.length > rule.max)) {
      throw invalidValue(`The parameter ${this.#name(member)} must be between ${rule.min ?? 0} and ${rule.max ?? "unlimited"} characters long.`);
    }
    return value;
  }

  number(member: string, required = false): number | undefined {
    const value = this.#present(member, required);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw wrongType(this.#name(member), "number");
    return value;
  }

  boolean(member: string): boolean | undefined {
    const value = this.#present(member, false);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") throw wrongType(this.#name(member), "boolean");
    return value;
  }

  /** Epoch seconds (what the JSON protocol sends; the CBOR layer turns its timestamps into the same). */
  timestamp(member: string, required = false): number | undefined {
    const value = this.#present(member, required);
    if (value === undefined) return undefined;
    if (typeof value === "number" && Number.isFinite(value)) return value;
    if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return Date.parse(value) / 1000;
    throw wrongType(this.#name(member), "timestamp");
  }

  /** A list of structures, each read by its own MetricsInput. */
  structures(member: string, rule: { required?: boolean; max?: number } = {}): MetricsInput[] | undefined {
    const value = this.#present(member, rule.required === true);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw wrongType(this.#name(member), "list");
    if (rule.required && value.length === 0) throw missingParameter(this.#name(member));
    if (rule.max !== undefined && value.length > rule.max) {
      throw invalidValue(`The collection ${this.#name(member)} must not have a size greater than ${rule.max}.`);
    }
    return value.map((item, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) throw wrongType(`${this.#name(member)}.member.${i + 1}`, "structure");
      return new MetricsInput(item as Record<string, unknown>, `${this.#name(member)}.member.${i + 1}`);
    });
  }

  structure(member: string, required = false): MetricsInput | undefined {
    const value = this.#present(member, required);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw wrongType(this.#name(member), "structure");
    return new MetricsInput(value as Record<string, unknown>, this.#name(member));
  }

  strings(member: string): string[] | undefined {
    const value = this.#present(member, false);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw wrongType(this.#name(member), "list of strings");
    return value as string[];
  }
}
