// Runs an ONNX file in onnxruntime (CPU) on one raw float32 input and writes each output as raw little-endian
// data (<name>.bin) with an index (outputs.json: type and dims per output) and the file's metadata.
// Usage: node run_onnx.js MODEL INPUT_NAME INPUT.bin D0,D1,... OUTPUT_DIR
// The export tests call it; it doubles as the README's example of running an exported file without Python.
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inputName, inputFile, dims, outputDir] = process.argv.slice(2);
  if (!outputDir) throw new Error('usage: node run_onnx.js MODEL INPUT_NAME INPUT.bin D0,D1,... OUTPUT_DIR');
  const raw = fs.readFileSync(inputFile);
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const feeds = { [inputName]: new ort.Tensor('float32', data, dims.split(',').map(Number)) };
  const results = await session.run(feeds);
  const index = {};
  for (const [name, tensor] of Object.entries(results)) {
    const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    fs.writeFileSync(path.join(outputDir, `${name}.bin`), bytes);
    index[name] = { type: tensor.type, dims: tensor.dims };
  }
  fs.writeFileSync(path.join(outputDir, 'outputs.json'), JSON.stringify(index));
}

main().catch((error) => {
  console.error(`run_onnx: ${process.argv[2]}: ${error.message}`);
  process.exit(1);
});
