"""Training throughput: the DataLoader alone (decode + warp + occlusion + jitter) per occlusion recipe and worker count,
and a full CPU training step split into data / forward / backward, on this machine's CPU with the real data; then the
H100 numbers measured by benchmarks/gpu_runs.py and what all of them imply for one epoch over the full CelebAMask-HQ
train split. Writes benchmarks/reports/throughput.md/.json. On a GPU machine, `--gpu` instead times whole `train()` epochs per
loader worker count and writes throughput_gpu.json, which the report then includes.

    python benchmarks/throughput.py
    python benchmarks/throughput.py --gpu --prepared data/prepared-256 --out $OUT/throughput   # copy the json to benchmarks/reports/
    python benchmarks/throughput.py --report-only                                              # rewrite the .md from the json files
"""
import argparse, json, os, platform, statistics, tempfile, time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
REPORTS = REPO/'benchmarks'/'reports'
FULL_TRAIN = 24183  # images in CelebAMask-HQ's official train split

def loader_rate(cfg, batches):
    "Images/s of the training DataLoader alone, after a warm-up batch and the batches the workers made meanwhile (2 each)."
    from facemask.train import make_loaders
    it = iter(make_loaders(cfg)[0])
    for _ in range(1 + 2 * cfg.workers): next(it)
    t0 = time.perf_counter()
    for _ in range(batches): next(it)
    return batches * cfg.batch_size / (time.perf_counter() - t0)

def stage_profile(cfg, n):
    "Mean ms per image in each stage of `FaceMaskDataset.__getitem__` for training (the same calls, timed one by one)."
    import numpy as np
    from facemask.data import color_jitter, random_affine
    from facemask.train import make_loaders
    ds, t = make_loaders(cfg)[0].dataset, np.zeros(5)
    ds[0]  # warm-up
    for i in range(n):
        t0 = time.perf_counter(); image, mask = ds.load(i)
        t1 = time.perf_counter(); rng = np.random.default_rng([ds.seed, i]); image, mask = random_affine(image, mask, rng, ds.size)
        t2 = time.perf_counter(); image, mask = ds.augment(image, mask, rng) if ds.augment else (image, mask)
        t3 = time.perf_counter(); image = color_jitter(image, rng)
        t4 = time.perf_counter(); torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255; torch.from_numpy((mask > 127).astype(np.float32))[None]
        t += np.diff([t0, t1, t2, t3, t4, time.perf_counter()])
    return dict(zip(('read_decode', 'warp', 'occlude', 'jitter', 'to_tensor'), (t / n * 1000).tolist()))

def step_profile(cfg, steps):
    "Mean seconds per training step waiting for data, in forward + loss, and in backward + AdamW, after one warm-up step."
    from facemask.model import FaceSegmenter, ModelConfig
    from facemask.train import bce_dice_loss, make_loaders
    torch.manual_seed(0)
    model = FaceSegmenter(ModelConfig(backbone=cfg.backbone, decoder_channels=cfg.decoder_channels, input_size=cfg.input_size), pretrained=False).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    it, times = iter(make_loaders(cfg)[0]), []
    for i in range(steps + 1):
        t0 = time.perf_counter(); x, y = next(it)
        t1 = time.perf_counter(); loss = bce_dice_loss(model(x), y)
        t2 = time.perf_counter(); opt.zero_grad(); loss.backward(); opt.step()
        if i: times.append((t1 - t0, t2 - t1, time.perf_counter() - t2))
    data, fwd, bwd = (statistics.mean(c) for c in zip(*times))
    return {'data_s': data, 'forward_s': fwd, 'backward_s': bwd, 'step_s': data + fwd + bwd,
            'images_per_s': cfg.batch_size / (data + fwd + bwd), 'steps': steps}

def repeated(prepared, k, root):
    "A prepared folder at `root` whose train split lists every face `k` times: a k times longer epoch (each draw warped anew)."
    from facemask.data import load_split
    root.mkdir()
    for d in ('images', 'masks'): (root/d).symlink_to(Path(prepared, d).resolve())
    split = load_split(prepared); split['train'] = split['train'] * k
    (root/'split.json').write_text(json.dumps(split))
    return root

def train_rates(cfg, workers, epochs, repeat):
    "The images/s `train()` logs per epoch (training images over training + validation seconds) for each loader worker count."
    from facemask.train import TrainConfig, train
    rates = {}
    for w in workers:
        with tempfile.TemporaryDirectory() as tmp:
            data = repeated(cfg.data, repeat, Path(tmp)/'data')
            train(TrainConfig(**{**vars(cfg), 'data': str(data), 'workers': w, 'epochs': epochs, 'out': f'{tmp}/run'}))
            rates[w] = [h['images_per_s'] for h in json.loads(Path(tmp, 'run', 'history.json').read_text())]
        print('workers', w, rates[w], flush=True)
    return rates

def gpu_numbers():
    "The H100 numbers already measured by benchmarks/gpu_runs.py: synthetic training steps and the sweep's per-epoch rates."
    gpu = json.loads((REPORTS/'gpu_throughput.json').read_text())
    sweep = json.loads((REPORTS/'training_runs.json').read_text())
    runs = {r['name']: [h['images_per_s'] for h in r['history']] for r in sweep['runs']}
    return {'device': gpu['device'], 'torch': gpu['torch'],
            'train_step_img_per_s': {k[len('train_'):-len('_bs32_img_per_s')]: v for k, v in gpu.items() if k.startswith('train_')},
            'sweep_runs': {n: {'epochs': len(v), 'median': statistics.median(v), 'min': min(v), 'max': max(v)} for n, v in runs.items()}}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--batches', type=int, default=12, help='timed batches per loader measurement')
    p.add_argument('--steps', type=int, default=4, help='timed training steps per profile')
    p.add_argument('--images', type=int, default=48, help='images per stage profile')
    p.add_argument('--rounds', type=int, default=2, help='repeat the loader and step measurements, interleaved; the best round is reported')
    p.add_argument('--out', default=str(REPORTS/'throughput'))
    p.add_argument('--gpu', action='store_true', help='time train() epochs on the GPU per worker count (writes OUT_gpu.json)')
    p.add_argument('--prepared', help='--gpu: a prepared folder (default: prepare --data with size 256)')
    p.add_argument('--gpu-workers', default='4,8,15', help='--gpu: loader worker counts'); p.add_argument('--repeat', type=int, default=8, help='--gpu: epoch length in passes over the faces')
    p.add_argument('--report-only', action='store_true', help='rewrite OUT.md from OUT.json and OUT_gpu.json')
    a = p.parse_args()
    from facemask.core import atomic_path
    from facemask.data import prepare
    from facemask.train import TrainConfig
    out = Path(a.out)
    if a.gpu:
        prepared = a.prepared or prepare(a.data, REPO/'data'/'bench-prepared-256', size=256)
        cfg = TrainConfig.from_json(REPO/'configs/default.json', data=str(prepared), hands=a.hands, pretrained=False)
        report = {'date': time.strftime('%Y-%m-%d'), 'device': torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu',
                  'cores': os.cpu_count(), 'torch': torch.__version__, 'images': '256 (prepare --size 256)',
                  'faces': len(json.loads(Path(prepared, 'split.json').read_text())['train']), 'repeat': a.repeat, 'epochs': 2,
                  'img_per_s': train_rates(cfg, [int(w) for w in a.gpu_workers.split(',')], 2, a.repeat)}
        with atomic_path(Path(f'{out}_gpu.json')) as tmp: tmp.write_text(json.dumps(report, indent=1))
        return
    if a.report_only:
        with atomic_path(out.with_suffix('.md')) as tmp: tmp.write_text(markdown(json.loads(out.with_suffix('.json').read_text()), gpu_run(out)))
        return

    caches = {'512 (as stored)': prepare(a.data, REPO/'data'/'bench-prepared'), '256 (prepare --size 256)': prepare(a.data, REPO/'data'/'bench-prepared-256', size=256)}
    base = TrainConfig.from_json(REPO/'configs/default.json', hands=a.hands, device='cpu', pretrained=False)
    cfg = lambda **kw: TrainConfig(**{**vars(base), **kw})
    report = {'date': time.strftime('%Y-%m-%d'), 'cpu': platform.processor() or platform.machine(), 'cores': os.cpu_count(),
              'torch': torch.__version__, 'torch_threads': torch.get_num_threads(), 'load_average_before': os.getloadavg(),
              'batch_size': base.batch_size, 'input_size': base.input_size, 'backbone': base.backbone, 'stage_images': a.images, 'stages': [], 'loader': [], 'step': []}
    threads = torch.get_num_threads()
    for cache, path in caches.items():
        for occ in ('none', 'random', 'realistic'):
            for t in sorted({1, threads}) if cache.startswith('512') else (1,):
                torch.set_num_threads(t)  # 1 is what a DataLoader worker uses; the main process uses all cores
                report['stages'].append({'images': cache, 'occlusion': occ, 'torch_threads': t, **stage_profile(cfg(data=str(path), occlusion=occ), a.images)})
                print(report['stages'][-1], flush=True)
    torch.set_num_threads(threads)
    loader = {(c, o, w): [] for c in caches for o in ('none', 'random', 'realistic') for w in (0, 1, 2)}
    steps = {w: [] for w in (0, 2)}
    for _ in range(a.rounds):
        for c, o, w in loader:
            loader[c, o, w].append(loader_rate(cfg(data=str(caches[c]), occlusion=o, workers=w), a.batches))
            print(c, o, w, f'{loader[c, o, w][-1]:.1f} img/s', flush=True)
        for w in steps:
            steps[w].append(step_profile(cfg(data=str(caches['512 (as stored)']), workers=w), a.steps))
            print('step workers', w, {k: round(v, 3) for k, v in steps[w][-1].items()}, flush=True)
    report['loader'] = [{'images': c, 'occlusion': o, 'workers': w, 'img_per_s': max(r), 'rounds': r} for (c, o, w), r in loader.items()]
    report['step'] = [{'images': '512 (as stored)', 'occlusion': base.occlusion, 'workers': w, 'rounds': len(r), **min(r, key=lambda x: x['step_s'])}
                      for w, r in steps.items()]
    report['load_average_after'] = os.getloadavg()
    report['gpu'] = gpu_numbers()
    with atomic_path(Path(a.out).with_suffix('.json')) as tmp: tmp.write_text(json.dumps(report, indent=1))
    with atomic_path(Path(a.out).with_suffix('.md')) as tmp: tmp.write_text(markdown(report, gpu_run(out)))
    print(Path(a.out).with_suffix('.md').read_text())

def gpu_run(out):
    "The `--gpu` results beside `out`, if any."
    path = Path(f'{out}_gpu.json')
    return json.loads(path.read_text()) if path.exists() else None

def markdown(r, run=None):
    loader = {(x['images'], x['occlusion'], x['workers']): x['img_per_s'] for x in r['loader']}
    g, step = r['gpu'], {s['workers']: s for s in r['step']}
    agg = sum(v['median'] for v in g['sweep_runs'].values())
    mnv2 = g['train_step_img_per_s']['mobilenet_v2_256']
    one_worker = loader['256 (prepare --size 256)', 'realistic', 1]
    epoch = lambda rate: (lambda t: f'{t:.0f} s' if t < 120 else f'{t / 60:.1f} min' if t < 7200 else f'{t / 3600:.1f} h')(FULL_TRAIN / rate)
    lines = [
        '# Training throughput', '',
        f"Produced by `benchmarks/throughput.py` on {r['date']}. CPU numbers: this machine, {r['cores']} CPU cores ({r['cpu']}), "
        f"torch {r['torch']} ({r['torch_threads']} threads in the main process), no GPU. The machine was shared with other jobs "
        f"(load average {r['load_average_before'][0]:.1f} before, {r['load_average_after'][0]:.1f} after, on 2 cores), so the CPU "
        'numbers are noisy; each loader and step figure is the best of interleaved rounds. Data: the 640 training faces of '
        'CelebAMask-HQ-mini, `prepare`d (photos stored at 512x512) and, for the rows marked 256, `prepare`d with `size=256` '
        f"(the `facemask prepare --size 256` cache); hands from `../shared/data/hands`; `configs/default.json` (batch {r['batch_size']}, "
        f"input {r['input_size']}, {r['backbone']} U-Net, realistic occlusion unless stated). Raw numbers: `throughput.json`.", '',
        '## Where a training image\'s time goes (CPU, one process)', '',
        'Milliseconds per image in each stage of `FaceMaskDataset.__getitem__`, timed call by call over '
        f"{r['stage_images']} images. With 1 torch thread, as in a DataLoader worker; with 2, as in the main process "
        '(workers 0), where the two small torch ops of `to_tensor` wait for a second core that other jobs hold.', '',
        '| stored images | occlusion | torch threads | read + decode | warp | occlusion | jitter | to_tensor | total | images/s |',
        '|---|---|---|---|---|---|---|---|---|---|']
    for x in r['stages']:
        ms = [x[k] for k in ('read_decode', 'warp', 'occlude', 'jitter', 'to_tensor')]
        lines.append(f"| {x['images']} | {x['occlusion']} | {x['torch_threads']} | " + ' | '.join(f'{v:.1f}' for v in ms) + f' | {sum(ms):.1f} | {1000 / sum(ms):.0f} |')
    lines += ['', '## DataLoader alone (CPU)', '',
              f"Images/s out of the training DataLoader, best of {len(r['loader'][0]['rounds'])} rounds of {r['batch_size']}-image batches, "
              'timed after a warm-up batch and the batches the workers made meanwhile.', '',
              '| stored images | occlusion | workers 0 | workers 1 | workers 2 |', '|---|---|---|---|---|']
    for cache in dict.fromkeys(c for c, _, _ in loader):
        for occ in ('none', 'random', 'realistic'):
            lines.append(f'| {cache} | {occ} | ' + ' | '.join(f'{loader[cache, occ, w]:.1f}' for w in (0, 1, 2)) + ' |')
    lines += ['', '## One training step (CPU, float32)', '',
              f"Seconds per step, batch {r['batch_size']} at {r['input_size']}x{r['input_size']}, 512 photos, realistic occlusion; mean of "
              f"{step[0]['steps']} steps after a warm-up step, best of {step[0]['rounds']} rounds. `data` is the time the step waits for its "
              'batch: with workers 0 the batch is made inside the step; with workers 2 it is made meanwhile, on the same 2 cores.', '',
              '| workers | data | forward + loss | backward + AdamW | step | data share | images/s |', '|---|---|---|---|---|---|---|']
    for w, x in step.items():
        lines.append(f"| {w} | {x['data_s']:.3f} | {x['forward_s']:.3f} | {x['backward_s']:.3f} | {x['step_s']:.3f} | "
                     f"{x['data_s'] / x['step_s']:.0%} | {x['images_per_s']:.2f} |")
    lines += ['', 'On this CPU training is compute bound: the model, not the input pipeline, takes the step.', '',
              f"## On an {g['device']} (measured by `benchmarks/gpu_runs.py`, not on this machine)", '',
              f"From `gpu_throughput.json` (torch {g['torch']}): images/s of a training step on a synthetic batch of 32 already on the GPU "
              '(bf16 autocast, channels_last, AdamW), so no data loading.', '',
              '| backbone | 256x256 | 512x512 |', '|---|---|---|']
    for bb in dict.fromkeys(k.rsplit('_', 1)[0] for k in g['train_step_img_per_s']):
        lines.append(f"| {bb} | {g['train_step_img_per_s'][bb + '_256']:.1f} | {g['train_step_img_per_s'][bb + '_512']:.1f} |")
    lines += ['', "From `training_runs.json`: the `images_per_s` that `train()` logged per epoch (training images over the epoch's "
              "training + validation seconds) in the sweep's 7 runs of 640 faces, trained at the same time on one H100 and its 16 CPU "
              'cores (4 loader workers each, 6 for epochs60): data-loader bound, sharing the CPUs.', '',
              '| run | epochs | median images/s | min | max |', '|---|---|---|---|---|']
    for n, v in g['sweep_runs'].items():
        lines.append(f"| {n} | {v['epochs']} | {v['median']:.1f} | {v['min']:.1f} | {v['max']:.1f} |")
    lines.append(f'| all 7 (sum of medians) | | {agg:.1f} | | |')
    alone = {w: v[-1] for w, v in run['img_per_s'].items()} if run else {}
    wmax = max(alone, key=int, default=None)
    if run:
        lines += ['', f"One run alone on an {run['device']} with {run['cores']} CPU cores (`benchmarks/throughput.py --gpu`, {run['date']}, "
                  f"torch {run['torch']}): `configs/default.json` without ImageNet weights, the {run['faces']} training faces from the 256 cache "
                  f"drawn {run['repeat']} times per epoch ({run['faces'] * run['repeat']:,} images, each draw warped anew), realistic occlusion, "
                  f"{run['epochs']} epochs; images/s as `train()` logs it. Epoch 1 includes starting the workers; epoch 2 is the rate used below.", '',
                  '| loader workers | epoch 1 images/s | epoch 2 images/s |', '|---|---|---|']
        lines += [f"| {w} | {v[0]:.1f} | {v[-1]:.1f} |" for w, v in run['img_per_s'].items()]
    lines += ['',
              f'## One epoch over the full CelebAMask-HQ train split ({FULL_TRAIN:,} images): derived, not measured', '',
              'Each line divides the image count by a rate measured above; no such epoch was run.', '',
              f"- This CPU, `configs/default.json` (workers 2): {step[2]['images_per_s']:.2f} images/s -> {epoch(step[2]['images_per_s'])}.",
              f'- H100, GPU work alone (mobilenet_v2 at 256, synthetic batches): {mnv2:.1f} images/s -> {epoch(mnv2)}. The floor: the input '
              'pipeline decides the real time.',
              f"- H100 as used in the sweep (the default run, one of 7 sharing the machine): {g['sweep_runs']['default']['median']:.1f} images/s "
              f"-> {epoch(g['sweep_runs']['default']['median'])}.",
              *[f'- H100, one run alone with {w} loader workers: {v:.1f} images/s -> {epoch(v)}.' for w, v in alone.items()],
              *([f'- The GPU takes {mnv2:.0f} images/s; the run with {wmax} workers fed it {alone[wmax]:.0f} ({alone[wmax] / mnv2:.0%}), '
                 f'{alone[wmax] / int(wmax):.1f} images/s per worker, against {one_worker:.1f} for one worker here (256 cache, realistic '
                 f'occlusion): keeping it busy takes about {mnv2 / one_worker:.0f} workers at this CPU\'s rate per core, more at that host\'s.']
                if run else []), '',
              "The full dataset's photos are 1024x1024, four times the pixels of the mini set's 512x512 measured above, so reading them "
              'costs more than the read + decode column shows; the 256 cache costs the same whatever the source size. Occlusion '
              '(realistic) is the largest stage either way.', '']
    return '\n'.join(lines)

if __name__ == '__main__':
    main()
