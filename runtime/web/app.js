// The bundle page's logic: load the package next to this file, classify the image the user
// picks, show the top-5 classes and the time per inference (median of a few runs).
import { KilnModel, imageToTensor } from './kiln.js';

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
};

async function main() {
  const model = await KilnModel.load(new URL('./', location.href));
  const labels = await fetch('labels.json').then((r) => (r.ok ? r.json() : [])).catch(() => []);
  const input = model.inputs[0];
  $('model').textContent = model.manifest.model || 'model';
  status(`Ready in ${model.loadMs.toFixed(0)} ms: ${model.passes.length} passes, ${model.programCount} programs. Pick an image.`);
  $('file').disabled = false;
  window.kiln = { model, ready: true };

  $('file').addEventListener('change', async () => {
    const file = $('file').files[0];
    if (!file) return;
    const img = $('photo');
    img.src = URL.createObjectURL(file);
    await img.decode();
    img.hidden = false;
    status('Classifying…');
    try {
      const preset = model.manifest.metadata?.preprocess || (input.shape[3] === 3 ? 'tf' : 'imagenet');
      const x = imageToTensor(img, input.shape, preset);
      const times = [];
      let scores;
      for (let r = 0; r < 3; ++r) {
        const t = performance.now();
        [scores] = await model.run({ [input.name]: x });
        times.push(performance.now() - t);
      }
      const first = times[0];
      times.sort((a, b) => a - b);
      const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a]).slice(0, 5);
      $('top5').replaceChildren(
        ...order.map((c, i) => {
          const tr = document.createElement('tr');
          tr.innerHTML = `<td>#${i + 1}</td><td>${c}</td><td class="score">${scores[c].toFixed(4)}</td><td></td>`;
          tr.lastChild.textContent = labels[c] ?? '';
          return tr;
        }),
      );
      $('time').textContent = `${times[1].toFixed(1)} ms per inference (median of 3 runs; the first took ${first.toFixed(1)} ms)`;
      window.kiln.ms = times[1];
      status(`Done: ${file.name}`);
      window.kiln.top5 = order.map((c) => ({ class: c, score: scores[c], label: labels[c] ?? '' }));
    } catch (e) {
      status(e.message, true);
    }
  });
}

main().catch((e) => {
  status(e.message, true);
  window.kiln = { error: e.message };
});
