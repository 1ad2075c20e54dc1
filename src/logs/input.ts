import { AwsJsonError } from "../aws-json/errors";

/**
 * Reads the members of a CloudWatch Logs request with the service's errors:
 * a member of the wrong JSON type → SerializationException; a missing
 * required member or a broken constraint → InvalidParameterException
 * "1 validation error detected: Value ... at '<member>' failed to satisfy constraint: ...".
 * Unknown members are ignored, as AWS's JSON services do.
 */
export class LogsInput {
  #body: Record<string, unknown>;

  constructor(body: Record<string, unknown>) {
    this.#body = body;
  }

  string(name: string, rule: { required?: boolean; min?: number; max?: number; pattern?: RegExp; patternText?: string } = {}): string | undefined {
    const value = this.#present(name, rule.required);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw wrongType(name, "string", value);
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min) throw invalid(value, name, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && length > rule.max) throw invalid(value, name, `Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern && !rule.pattern.test(value)) throw invalid(value, name, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
    return value;
  }

  integer(name: string, rule: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const value = this.#present(name, rule.required);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) throw wrongType(name, "integer", value);
    if (rule.min !== undefined && value < rule.min) throw invalid(value, name, `Member must have value greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && value > rule.max) throw invalid(value, name, `Member must have value less than or equal to ${rule.max}`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.#present(name, false);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") throw wrongType(name, "boolean", value);
    return value;
  }

  strings(name: string, rule: { min?: number; max?: number; item?: Parameters<LogsInput["string"]>[1] } = {}): string[] | undefined {
    const value = this.#present(name, false);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw wrongType(name, "list", value);
    if (rule.min !== undefined && value.length < rule.min) throw invalid(value, name, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && value.length > rule.max) throw invalid(value, name, `Member must have length less than or equal to ${rule.max}`);
    return value.map((item, i) => new LogsInput({ [`${name}.${i + 1}.member`]: item }).string(`${name}.${i + 1}.member`, { ...rule.item, required: true }) ?? "");
  }

  list(name: string, required = false): unknown[] | undefined {
    const value = this.#present(name, required);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw wrongType(name, "list", value);
    return value;
  }

  #present(name: string, required = false): unknown {
    const value = this.#body[name];
    if (value === undefined || value === null) {
      if (required) throw new AwsJsonError(400, "InvalidParameterException", `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    return value;
  }
}

export function invalid(value: unknown, name: string, constraint: string): AwsJsonError {
  const shown = typeof value === "string" || typeof value === "number" ? `'${value}'` : "";
  return new AwsJsonError(400, "InvalidParameterException", `1 validation error detected: Value ${shown ? `${shown} ` : ""}at '${name}' failed to satisfy constraint: ${constraint}`);
}

function wrongType(name: string, expected: string, value: unknown): AwsJsonError {
  const found = Array.isArray(value) ? "list" : typeof value === "object" ? "structure" : typeof value;
  return new AwsJsonError(400, "SerializationException", `Expected ${expected} for '${name}', found ${found}`);
}
