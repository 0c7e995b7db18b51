// Public API of @gan/telemetry: structured logs, the metrics.jsonl writer/reader, the terminal progress bar and
// the PNG writers for sample grids and 2-D scatter plots. No TF.js, no gRPC (see eslint.config.mjs).
export { createLogger, type Logger, type LoggerOptions } from './logger';
export { MetricsWriter, readMetrics, type MetricValue } from './metrics-writer';
export { ProgressBar, type ProgressBarOptions, type ProgressStream } from './progress-bar';
export { formatDuration } from './format-duration';
export { writeImageGrid, toByte, type ImageShape, type ImageGridOptions } from './image-grid';
export { writeScatterPlot, projectPoint, type ScatterPlotOptions } from './scatter-plot';
