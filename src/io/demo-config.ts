// weights/demo.json: what the demo model expects and where its files are (the CLI's demo and the web
// page read it).
export interface DemoConfig {
  model: string;
  labels: string;
  /** [height, width] */
  input_size: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  layer: string;
}
