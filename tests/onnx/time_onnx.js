// Times an exported recognizer in onnxruntime (CPU, all cores): ms per image at the given batch sizes, the
// median of `runs` runs after one warm-up run. Prints JSON. Usage: node time_onnx.js MODEL RUNS BATCH...
const ort = require('onnxruntime-node');
const os = require('os');

async function main() {
  const [model, runsText, ...batches] = process.argv.slice(2);
  if (batches.length === 0) throw new Error('usage: node time_onnx.js MODEL RUNS BATCH...');
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: os.cpus().length, interOpNumThreads: 1 });
  const result = { threads: os.cpus().length };
  for (const batch of batches.map(Number)) {
    const data = Float32Array.from({ length: batch * 32 * 100 }, () => Math.random() * 2 - 1);
    const feeds = { image: new ort.Tensor('float32', data, [batch, 1, 32, 100]) };
    await session.run(feeds);
    const times = [];
    for (let i = 0; i < Number(runsText); ++i) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6 / batch);
    }
    times.sort((a, b) => a - b);
    result[`ms_per_image_b${batch}`] = times[Math.floor(times.length / 2)];
  }
  console.log(JSON.stringify(result));
}

main().catch((error) => { console.error(`time_onnx: ${error.message}`); process.exit(1); });
