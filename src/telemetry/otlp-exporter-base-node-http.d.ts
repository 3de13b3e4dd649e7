// `@opentelemetry/otlp-exporter-base/node-http` is a package.json `exports` subpath, which this
// project's `moduleResolution: node` does not read (Node does, at run time): the types of what
// `encoded-span-processor.ts` uses, by file.
declare module '@opentelemetry/otlp-exporter-base/node-http' {
  export {
    convertLegacyHttpOptions,
    createOtlpHttpExportDelegate,
  } from '@opentelemetry/otlp-exporter-base/build/src/index-node-http';
}
