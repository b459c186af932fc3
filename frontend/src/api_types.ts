// PROVISIONAL: written by hand from tb_saliency/http_api.md until tb_saliency/http_schema.json exists;
// scripts/gen_api_types.mjs then generates this file.

export type Kind = "saliency" | "activations" | "randomisation" | "unknown";

export interface TagInfo {
  kind: Kind;
  map_keys: string[];
  class_names: string[];
  num_samples: number;
  display_name: string;
  description: string;
  max_step: number;
  max_wall_time: number;
  error?: string;
}

export interface Sampling {
  limit: number | null;
  flag: string;
}

export interface TagsResponse {
  runs: { [run: string]: { [tag: string]: TagInfo } };
  run_errors: { [run: string]: string };
  sampling: Sampling;
}

export interface IndexArray {
  key: string;
  stage: string;
  min: number;
  max: number;
  metrics: { [name: string]: number };
}

export interface StepIndex {
  num_samples: number;
  frames_written: number;
  steps_written: number;
  wrong_predictions: number;
  arrays: IndexArray[];
}

export interface StepEntry {
  step: number;
  wall_time: number;
  index: StepIndex | null;
}

export interface StepsResponse {
  run: string;
  tag: string;
  kind: Kind;
  class_names: string[];
  token: string;
  append: boolean;
  steps: StepEntry[];
  written: { frames: number; steps: number };
  sampling: { limit: number | null; stored: number };
}

export interface Sample {
  label?: number;
  target?: number;
  prediction?: number;
  score?: number;
  target_score?: number;
}

export interface Images {
  width: number;
  height: number;
  channels: number;
  display_transform: string;
  blobs: string[];
  wall_time: number;
}

export interface Metric {
  name: string;
  values: number[];
  curve: number[][] | null;
  options: { [key: string]: unknown };
}

export interface MapBlock {
  key: string;
  method: string;
  layer: string;
  stage: string;
  dtype: "float16" | "float32";
  height: number;
  width: number;
  min: number[];
  max: number[];
  scale: number[];
  options: { [key: string]: unknown };
  statistics: { [name: string]: number[] };
  metrics: { [name: string]: Metric };
  blob: string;
}

export interface Activations {
  layer: string;
  dtype: "float16" | "float32";
  channels: number;
  total_channels: number;
  height: number;
  width: number;
  channel_index: number[][];
  channel_mean: number[][];
  min: number[];
  max: number[];
  scale: number[];
  options: { [key: string]: unknown };
  blob: string;
}

export interface Randomisation {
  order: string;
  layers: string[];
  correlations: { key: string; stage: string; values: number[] }[];
  options: { [key: string]: unknown };
}

export interface FrameResponse {
  run: string;
  tag: string;
  step: number;
  wall_time: number;
  kind: Kind;
  num_samples: number;
  samples: Sample[];
  images: Images | null;
  maps: MapBlock[];
  activations: Activations | null;
  randomisation: Randomisation | null;
}

export interface FrameError {
  run: string;
  tag: string;
  step: number;
  wall_time: number;
  error: string;
}

export interface ErrorResponse {
  error: string;
}
