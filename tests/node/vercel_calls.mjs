// The Vercel AI SDK (`ai` 7 with `@ai-sdk/anthropic` and `@ai-sdk/openai`) traced by its
// OpenTelemetry integration (`@ai-sdk/otel`), calling the fake Anthropic / OpenAI API
// (tests/python/fake_provider.py, started as a child process) and exporting over OTLP with
// `@opentelemetry/sdk-node` to the agent under test.
//
//   node tests/node/vercel_calls.mjs --endpoint URL --telemetry semconv|legacy \
//        [--protocol grpc|http/protobuf|http/json]
//
// `--telemetry semconv` registers `new OpenTelemetry()` (GenAI semantic conventions: an
// `invoke_agent` span over one `step N` span per step, each over a `chat` span, and
// `execute_tool` spans); `legacy` registers `new LegacyOpenTelemetry()` (the `ai.*` spans of
// earlier versions: `ai.generateText` over `ai.generateText.doGenerate`, and so on).
// Each call happens in its own trace under an app span `POST /chat` whose `app.call` names it
// (`<telemetry>:<call>`). Every span the app finished is printed as one JSON document prefixed
// with `EXPORTED_SPANS ` (as the Python scripts print them). Exit codes: 0 success, 3 a required
// package is missing, 1 otherwise.
//
// Used by tests/real_instrumentation/.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVICE_NAME = 'vercel-ai-app';

let packages;
try {
  packages = {
    api: await import('@opentelemetry/api'),
    sdkNode: await import('@opentelemetry/sdk-node'),
    sdkTrace: await import('@opentelemetry/sdk-trace'),
    ai: await import('ai'),
    otel: await import('@ai-sdk/otel'),
    anthropic: await import('@ai-sdk/anthropic'),
    openai: await import('@ai-sdk/openai'),
    zod: await import('zod'),
  };
} catch (error) {
  console.error(
    `MISSING_NODE_PACKAGES: ${error.message}. Install them with \`npm ci --prefix tests/node\``,
  );
  process.exit(3);
}

const anthropicAnswer = (id, model, uncached, output, { read = 0, write = 0, split, ...extra } = {}) => ({
  id,
  model,
  usage: {
    input_tokens: uncached,
    output_tokens: output,
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write,
    ...(split && {
      cache_creation: { ephemeral_5m_input_tokens: split[0], ephemeral_1h_input_tokens: split[1] },
    }),
    service_tier: 'standard',
  },
  ...extra,
});

const openaiAnswer = (id, model, prompt, completion, cached, extra = {}) => ({
  id,
  model,
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  },
  ...extra,
});

// The usage the fake API answers with, by prompt (or tool result). The expected costs in
// tests/real_instrumentation/ are worked out by hand from these numbers.
const RESPONSES = {
  anthropic: {
    'vercel-plain': anthropicAnswer('msg_01VercelPlain0000000001', 'claude-sonnet-4-5-20250929', 5000, 800, {
      read: 15000,
    }),
    'vercel-cache-write': anthropicAnswer('msg_01VercelCacheWrite000001', 'claude-sonnet-4-5-20250929', 1000, 100, {
      write: 3000,
      split: [1000, 2000],
    }),
    'vercel-stream': anthropicAnswer('msg_01VercelStream000000001', 'claude-sonnet-4-5-20250929', 2500, 500, {
      read: 7500,
      delta_usage: 'cumulative',
    }),
    'vercel-tool': anthropicAnswer('msg_01VercelToolStep0000001', 'claude-haiku-4-5-20251001', 3000, 100, {
      content: [{ type: 'tool_use', id: 'toolu_01VercelTool000000001', name: 'weather', input: { city: 'Oslo' } }],
      stop_reason: 'tool_use',
    }),
    'snowing in Oslo': anthropicAnswer('msg_01VercelToolStep0000002', 'claude-haiku-4-5-20251001', 1000, 500, {
      read: 3000,
    }),
    'vercel-unknown-model': anthropicAnswer('msg_01VercelUnknown00000001', 'acme-llm-1', 900, 90),
    'vercel-error': { status: 529, error: { type: 'overloaded_error', message: 'Overloaded' } },
  },
  openai: {
    'vercel-object': openaiAnswer('chatcmpl-VercelObject0001', 'gpt-4o-mini-2024-07-18', 4000, 500, 2000, {
      content: '{"city":"Oslo","degrees":-3}',
    }),
    'vercel-embed': openaiAnswer('embedding', 'text-embedding-3-small', 5000, 0, 0),
  },
};

// A system prompt marked for prompt caching.
const CACHED_INSTRUCTIONS = {
  role: 'system',
  content: 'A long system prompt worth caching.',
  providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } },
};

function calls({ anthropic, openai }) {
  const { generateText, streamText, generateObject, embed, tool, stepCountIs } = packages.ai;
  const { z } = packages.zod;
  const sonnet = anthropic('claude-sonnet-4-5');
  return [
    ['vercel-plain', () => generateText({ model: sonnet, instructions: CACHED_INSTRUCTIONS, prompt: 'vercel-plain' })],
    [
      'vercel-cache-write',
      () => generateText({ model: sonnet, instructions: CACHED_INSTRUCTIONS, prompt: 'vercel-cache-write' }),
    ],
    [
      'vercel-stream',
      async () => {
        const result = streamText({ model: sonnet, instructions: CACHED_INSTRUCTIONS, prompt: 'vercel-stream' });
        await result.consumeStream();
        await result.text;
      },
    ],
    [
      'vercel-tool',
      () =>
        generateText({
          model: anthropic('claude-haiku-4-5'),
          prompt: 'vercel-tool',
          tools: {
            weather: tool({
              description: 'The weather in a city.',
              inputSchema: z.object({ city: z.string() }),
              execute: async () => 'snowing in Oslo',
            }),
          },
          stopWhen: stepCountIs(3),
        }),
    ],
    [
      'vercel-object',
      () =>
        generateObject({
          model: openai.chat('gpt-4o-mini'),
          prompt: 'vercel-object',
          schema: z.object({ city: z.string(), degrees: z.number() }),
        }),
    ],
    ['vercel-embed', () => embed({ model: openai.embedding('text-embedding-3-small'), value: 'vercel-embed' })],
    ['vercel-unknown-model', () => generateText({ model: anthropic('acme-llm-1'), prompt: 'vercel-unknown-model' })],
    [
      'vercel-error',
      async () => {
        const refused = await generateText({ model: sonnet, prompt: 'vercel-error', maxRetries: 0 }).then(
          () => false,
          (error) => error.statusCode === 529,
        );
        if (!refused) throw new Error('the refused call did not fail with 529');
      },
    ],
  ];
}

/** The span exporter to the agent for `protocol`. */
async function exporter(endpoint, protocol) {
  const base = endpoint.replace(/\/$/, '');
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url: base, timeoutMillis: 10000 });
  }
  if (protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url: `${base}/v1/traces`, timeoutMillis: 10000 });
  }
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url: `${base}/v1/traces`, timeoutMillis: 10000 });
  }
  throw new Error(`unknown protocol ${protocol}`);
}

/** Starts the fake API (Python, standard library only) and returns its base URL. */
async function startFakeProvider() {
  const python = process.env.PYTHON || 'python3';
  const server = spawn(python, [join(HERE, '..', 'python', 'fake_provider.py')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  server.stdin.write(JSON.stringify(RESPONSES) + '\n');
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once('line', resolve);
    server.once('exit', (code) => reject(new Error(`the fake API exited with ${code}`)));
  });
  return { url, stop: () => server.stdin.end() };
}

/** A finished span as the tests read it (the fields tests/python/span_json.py writes). */
function describe(span) {
  const scope = span.instrumentationScope;
  const context = span.spanContext();
  return {
    name: span.name,
    scope: scope.name,
    scope_version: scope.version ?? '',
    trace_id: context.traceId,
    span_id: context.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? '',
    attributes: span.attributes,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string' },
      telemetry: { type: 'string', default: 'semconv' },
      protocol: { type: 'string', default: 'grpc' },
    },
  });
  const { api, sdkNode, sdkTrace, ai, otel } = packages;
  const fake = await startFakeProvider();
  const finished = [];
  const sdk = new sdkNode.NodeSDK({
    serviceName: SERVICE_NAME,
    autoDetectResources: false,
    spanProcessors: [
      // Every span reaches the agent in one export at the end.
      new sdkTrace.BatchSpanProcessor({
        exporter: await exporter(values.endpoint, values.protocol),
        scheduledDelayMillis: 60000,
        maxExportBatchSize: 512,
        maxQueueSize: 4096,
      }),
      // A copy of every span, to print what left the app.
      { onStart() {}, onEnd: (span) => finished.push(span), forceFlush: async () => {}, shutdown: async () => {} },
    ],
  });
  sdk.start();
  ai.registerTelemetry(values.telemetry === 'legacy' ? new otel.LegacyOpenTelemetry() : new otel.OpenTelemetry());
  globalThis.AI_SDK_LOG_WARNINGS = false;

  const providers = {
    anthropic: packages.anthropic.createAnthropic({ baseURL: `${fake.url}/v1`, apiKey: 'fake-key' }),
    openai: packages.openai.createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'fake-key' }),
  };
  const tracer = api.trace.getTracer(SERVICE_NAME);
  let failed = false;
  for (const [name, call] of calls(providers)) {
    await tracer.startActiveSpan(
      'POST /chat',
      { kind: api.SpanKind.SERVER, attributes: { 'http.route': '/chat', 'app.call': `${values.telemetry}:${name}` } },
      api.ROOT_CONTEXT,
      async (span) => {
        try {
          await call();
        } catch (error) {
          console.error(`${name} failed:`, error);
          failed = true;
        } finally {
          span.end();
        }
      },
    );
  }
  // Shutting the SDK down flushes the batch to the agent.
  await sdk.shutdown().catch((error) => {
    console.error('the export to the agent failed:', error);
    failed = true;
  });
  fake.stop();
  console.log('EXPORTED_SPANS ' + JSON.stringify(finished.map(describe)));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
