/**
 * The paths and runtime variables Lambda's Node.js runtimes define in every
 * execution environment (Lambda developer guide, "Defined runtime environment
 * variables"; values as the nodejs22.x image sets them). Nothing in the isolate
 * reads them: code that inspects them sees what it sees on Lambda.
 */
export function runtimeVariables(runtime: string): Record<string, string> {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1] ?? "22";
  return {
    LAMBDA_TASK_ROOT: "/var/task",
    LAMBDA_RUNTIME_DIR: "/var/runtime",
    // The runtime API's address in the Lambda sandbox; there is no such server here.
    AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001",
    PATH: "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    LD_LIBRARY_PATH: "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    NODE_PATH: `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
    PWD: "/var/task",
  };
}
