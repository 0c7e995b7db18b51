// Public API of @gan/telemetry: structured logs (JSON or pretty lines), the metrics.jsonl writer/reader, TensorBoard
// event files (writer and reader), the terminal progress bar and the owner of the terminal line it draws on, and the
// PNG writers for sample grids and 2-D scatter plots. No TF.js, no gRPC (see eslint.config.mjs).
export {
  createLogger, checkLogFormat, logLineRenderer, resolveLogFormat, LOG_FORMATS, type Logger, type LoggerOptions, type LogFormat,
} from './logger';
export { terminalLine, TerminalLine, CLEAR_LINE, type LineStream } from './terminal-line';
export { MetricsWriter, readMetrics, type MetricValue } from './metrics-writer';
export { ProgressBar, type ProgressBarOptions, type ProgressStream } from './progress-bar';
export { formatDuration } from './format-duration';
export { writeImageGrid, toByte, type ImageShape, type ImageGridOptions } from './image-grid';
export { writeScatterPlot, projectPoint, type ScatterPlotOptions } from './scatter-plot';
export { TensorBoardWriter, EVENT_FILE_VERSION, type TensorBoardWriterOptions } from './tensorboard-writer';
export { readEvents, eventFilesIn } from './tensorboard-reader';
export type { Event as TensorBoardEvent, Summary as TensorBoardSummary, SummaryValue as TensorBoardSummaryValue } from './tensorboard-event';
export { readPngHeader, type PngHeader } from './png-header';
export { crc32c, maskedCrc32c } from './crc32c';
