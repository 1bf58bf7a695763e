import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One sample of a family, as parse-prometheus-text-format returns it (values stay strings). */
export interface ParsedSample {
  labels?: Record<string, string>;
  value?: string;
  /** Histograms: upper bound → cumulative count (label sets merged: see `parseExposition`). */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** One metric family: its HELP, TYPE and samples. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case (prom-client
// writes an empty event-loop histogram's mean as `Nan`).
const SPECIAL_VALUE = /^[+-]?(inf|infinity|nan)$/i;

function isSampleValue(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && (SPECIAL_VALUE.test(value) || !Number.isNaN(Number(value)));
}

/**
 * Parses a `/metrics` answer as Prometheus' text exposition format and checks what the parser
 * lets through: every family has HELP and a TYPE, appears once, has valid metric and label names,
 * and every sample value is a number. Throws on the first violation.
 *
 * The parser (parse-prometheus-text-format) merges the buckets of a labelled histogram into one
 * sample and drops its labelled `_count`/`_sum`; read histogram observations per label set from
 * the service's registry instead.
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  for (const family of parsePrometheusTextFormat(text) as ParsedFamily[]) {
    if (families.has(family.name)) throw new Error(`metric family ${family.name} appears twice`);
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`);
    if (family.type === 'UNTYPED') throw new Error(`metric family ${family.name} has no TYPE`);
    if (family.help === '') throw new Error(`metric family ${family.name} has no HELP`);
    for (const sample of family.metrics) {
      for (const label of Object.keys(sample.labels ?? {})) {
        if (!LABEL_NAME.test(label)) throw new Error(`invalid label name ${label} on ${family.name}`);
      }
      const values = [sample.value, sample.count, sample.sum, ...Object.values(sample.buckets ?? {})].filter(
        (value) => value !== undefined,
      );
      if (values.length === 0 || !values.every(isSampleValue)) {
        throw new Error(`metric family ${family.name} has a sample without a numeric value`);
      }
    }
    families.set(family.name, family);
  }
  return families;
}

/**
 * The value of the counter or gauge sample whose labels include `labels` (the sum when several
 * match: a counter with more labels than the test names), 0 when there is none.
 */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.get(name);
  if (family === undefined) return 0;
  return family.metrics
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((total, sample) => total + Number(sample.value ?? 0), 0);
}

/** GETs a `/metrics` URL and parses it (see `parseExposition`). */
export async function scrapeMetrics(url: string): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('text/plain')) throw new Error(`GET ${url} answered ${contentType}`);
  return parseExposition(await response.text());
}
