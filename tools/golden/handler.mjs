// TF.js IOHandler reading a graph model and its weight shards from disk.
import fs from 'node:fs';
import path from 'node:path';

// fileHandler loads model.json and its shards from disk (no fetch, no network).
export function fileHandler(jsonPath) {
  return {
    load: async () => {
      const m = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const dir = path.dirname(jsonPath);
      const weightSpecs = [];
      const buffers = [];
      for (const group of m.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return {
        modelTopology: m.modelTopology, format: m.format, generatedBy: m.generatedBy, convertedBy: m.convertedBy,
        signature: m.signature, userDefinedMetadata: m.userDefinedMetadata, weightSpecs, weightData,
      };
    },
  };
}
