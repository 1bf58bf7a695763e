// The package ships no types. What it returns is typed in prometheus.ts (ParsedFamily).
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
