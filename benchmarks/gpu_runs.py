"""Training sweep + GPU throughput, run in one go on a GPU machine (or tiny, on CPU, with --smoke).

Trains the runs below concurrently (same seed, same data), evaluates each best checkpoint at 512x512 on the
validation faces, clean and with held-out hands, measures GPU inference/training throughput, and writes
`<set>.json` (e.g. `sweep.json`), `gpu_throughput.json` and half-precision copies of the chosen checkpoints into --out.

    python benchmarks/gpu_runs.py --data .carry/prepared --hands .carry/hands --out $OUT
    python benchmarks/gpu_runs.py --set ablation60 --runs runs/ablation60 --parallel 4 --train-budget 450 --no-throughput \
        --data .carry/prepared --hands .carry/hands --out $OUT     # then: benchmarks/ablation.py none=$OUT/none60.pt ...
"""
import argparse, json, os, subprocess, sys, time, warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from facemask.evaluate import benchmark_set, evaluate
from facemask.hands import hand_bank, split_bank
from facemask.model import FaceSegmenter, ModelConfig, load_model, save_model

RUN_SETS = {  # name: {run: overrides of configs/default.json (any TrainConfig field)}
    'sweep': {  # the first runs in reports/training_runs.md (30 epochs; objects then filled from anywhere in a photo)
        'default': {'epochs': 30, 'object_textures': 'anywhere'},
        'abl_none': {'epochs': 30, 'occlusion': 'none'},
        'abl_random': {'epochs': 30, 'occlusion': 'random'},
        'res224': {'epochs': 30, 'object_textures': 'anywhere', 'input_size': 224},
        'res320': {'epochs': 30, 'object_textures': 'anywhere', 'input_size': 320},
        'epochs60': {'epochs': 60, 'object_textures': 'anywhere', 'workers': 6},
        'resnet18_scratch': {'epochs': 30, 'object_textures': 'anywhere', 'backbone': 'resnet18', 'pretrained': False},
    },
    'ablation60': {  # issue 4's open question: the three recipes at 60 epochs, and the lifelike one with fewer occluders
        'none60': {'occlusion': 'none', 'epochs': 60},
        'random60': {'occlusion': 'random', 'epochs': 60},
        'realistic60': {'epochs': 60, 'object_textures': 'anywhere'},
        'realistic60_fewer': {'epochs': 60, 'p_hand': 0.35, 'p_object': 0.1, 'object_textures': 'anywhere'},
    },
    'textures60': {  # ablation60 ran with objects filled from anywhere in a face photo: fill them from face-free crops, or drop them
        'face_free60': {'epochs': 60, 'object_textures': 'face_free'},
        'no_objects60': {'epochs': 60, 'p_object': 0.0},
    },
    'res320_60': {  # is the clean price a resolution limit? none and the shipped recipe at 320 px; and none again with another seed
        'none320': {'occlusion': 'none', 'epochs': 60, 'input_size': 320, 'workers': 4},
        'realistic320': {'epochs': 60, 'input_size': 320, 'workers': 8},
        'none256_seed1': {'occlusion': 'none', 'epochs': 60, 'seed': 1, 'input_size': 256, 'workers': 3},
    },
    'finetune320': {  # can a clean model learn hands without losing clean faces? none320 fine-tuned 20 epochs with and without
        # occlusion; and second seeds of none320 and of the shipped recipe (its held-out hands now fixed by hand_split_seed)
        'ft20_realistic': {'init': '.carry/res320_60/none320.pt', 'epochs': 20, 'lr': 5e-4, 'workers': 3},
        'ft20_realistic_lr2e-4': {'init': '.carry/res320_60/none320.pt', 'epochs': 20, 'lr': 2e-4, 'workers': 3},
        'ft20_none': {'init': '.carry/res320_60/none320.pt', 'occlusion': 'none', 'epochs': 20, 'lr': 5e-4, 'workers': 1},
        'none320_seed1': {'occlusion': 'none', 'seed': 1, 'workers': 3},
        'realistic320_seed1': {'seed': 1, 'workers': 6},
    },
}
for runs in (RUN_SETS['sweep'], RUN_SETS['ablation60'], RUN_SETS['textures60']):  # run when configs/default.json had input 256
    for over in runs.values(): over.setdefault('input_size', 256)
SHIP = {'sweep': ['default', 'abl_none', 'abl_random', 'epochs60'], 'ablation60': ['none60', 'random60', 'realistic60', 'realistic60_fewer'],
        'textures60': ['face_free60', 'no_objects60'], 'res320_60': ['none320', 'realistic320', 'none256_seed1'],
        'finetune320': list(RUN_SETS['finetune320'])}

def train_run(name, over, a):
    cmd = [sys.executable, '-c', 'import sys; from facemask.cli import main; sys.exit(main())', 'train',
           '--config', str(REPO/'configs/default.json'), '--data', a.data, '--hands', a.hands, '--out', f'{a.runs}/{name}',
           '--workers', str(over.get('workers', a.workers))]  # the flag wins over --set: a run's own workers go here
    for k, v in over.items():
        if k != 'workers': cmd += ['--set', f'{k}={json.dumps(v)}']
    if a.smoke: cmd += ['--epochs', '1', '--limit', '32', '--device', 'cpu']
    t0 = time.time()
    with open(f'{a.runs}/{name}.log', 'w') as log:
        try: rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=a.train_budget).returncode
        except subprocess.TimeoutExpired: rc = 'stopped at the time budget; best.pt is the best epoch reached'
    return {'name': name, 'overrides': over, 'rc': rc, 'wall_s': round(time.time() - t0, 1)}

def loader_check(a, workers=8, rounds=2):
    "Training-loader images/s over one epoch (lifelike recipe, default config, workers already started) with OpenCV's default threads against cores // workers per process."
    import cv2
    from facemask.train import TrainConfig, make_loaders
    cfg = TrainConfig.from_json(REPO/'configs/default.json', data=a.data, hands=a.hands, workers=workers, device='cpu', limit=32 if a.smoke else None)
    default, out = cv2.getNumThreads(), {'workers': workers, 'cpus': os.cpu_count(), 'batch_size': cfg.batch_size}
    for _ in range(rounds):
        for threads in (default, max(1, (os.cpu_count() or 1) // workers)):
            cv2.setNumThreads(threads)
            loader = make_loaders(cfg)[0]
            for _ in loader: pass  # starts the workers
            t0, n = time.perf_counter(), 0
            for x, _ in loader: n += len(x)
            out.setdefault(f'cv2_threads_{threads}_img_per_s', []).append(round(n / (time.perf_counter() - t0), 1))
            del loader
    cv2.setNumThreads(default)
    print('loader check', out, flush=True)
    return out

def gpu_throughput(device, sizes=(256, 512), batch=32):
    "Inference images/s of the default model at batch 1 and `batch`, and training images/s per backbone at `sizes`."
    out, amp = {'device': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu', 'torch': torch.__version__}, device.type == 'cuda'
    def timed(fn, n):
        for _ in range(3): fn()
        if amp: torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(n): fn()
        if amp: torch.cuda.synchronize()
        return (time.perf_counter() - t0) / n
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = FaceSegmenter(ModelConfig(), pretrained=False).to(device, memory_format=torch.channels_last).eval()
        for bs in (1, batch):
            x = torch.rand(bs, 3, 256, 256, device=device).contiguous(memory_format=torch.channels_last)
            for prec in ('fp32', 'bf16'):
                def f():
                    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=prec == 'bf16' and amp): m(x)
                out[f'infer_bs{bs}_{prec}_img_per_s'] = round(bs / timed(f, 20 if amp else 2), 1)
        for bb in ('mobilenet_v2', 'resnet18', 'resnet50'):
            for size in sizes:
                m = FaceSegmenter(ModelConfig(backbone=bb), pretrained=False).to(device, memory_format=torch.channels_last).train()
                opt = torch.optim.AdamW(m.parameters())
                bs = batch
                x = torch.rand(bs, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
                y = (torch.rand(bs, 1, size, size, device=device) > 0.5).float()
                def step():
                    with torch.autocast(device.type, torch.bfloat16, enabled=amp):
                        loss = torch.nn.functional.binary_cross_entropy_with_logits(m(x).float(), y)
                    opt.zero_grad(); loss.backward(); opt.step()
                out[f'train_{bb}_{size}_bs{bs}_img_per_s'] = round(bs / timed(step, 10 if amp else 1), 1)
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True); p.add_argument('--hands', required=True); p.add_argument('--out', required=True)
    p.add_argument('--set', default='sweep', choices=list(RUN_SETS), help='which runs to train')
    p.add_argument('--runs', default='runs/sweep'); p.add_argument('--parallel', type=int, default=4)
    p.add_argument('--workers', type=int, default=4); p.add_argument('--smoke', action='store_true')
    p.add_argument('--no-throughput', action='store_true', help='skip the GPU throughput measurements')
    p.add_argument('--loader-check', action='store_true', help='first time the training loader with two OpenCV thread counts')
    p.add_argument('--train-budget', type=float, default=330, help='seconds before a training run is stopped')
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True); Path(a.runs).mkdir(parents=True, exist_ok=True)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    loader = loader_check(a) if a.loader_check else None
    t0 = time.time()
    with ThreadPoolExecutor(a.parallel) as pool: results = list(pool.map(lambda kv: train_run(*kv, a), RUN_SETS[a.set].items()))
    print(f'training: {time.time() - t0:.0f} s', flush=True)
    split = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())
    val_ids = split['val'][:8 if a.smoke else None]
    _, val_hands = split_bank(hand_bank(a.hands), 0.25, 0)
    sets = {name: benchmark_set(a.data, val_ids, hands) for name, hands in (('clean', None), ('hands', val_hands))}
    for r in results:
        run = Path(a.runs)/r['name']
        r['history'] = json.loads((run/'history.json').read_text()) if (run/'history.json').exists() else None
        if not (run/'best.pt').exists(): print(r['name'], 'FAILED; see', run.with_suffix('.log'), flush=True); continue
        model = load_model(run/'best.pt', device)
        r['eval_512'] = {k: evaluate(model.predict, *v)[0] for k, v in sets.items()}
        print(r['name'], r['wall_s'], 's', {k: round(v['pooled_iou'], 4) for k, v in r['eval_512'].items()},
              'hand_as_face', round(r['eval_512']['hands'].get('hand_as_face', -1), 4), flush=True)
        if r['name'] in SHIP[a.set]:
            saved = torch.load(run/'best.pt', map_location='cpu', weights_only=False)
            save_model(model, out/f"{r['name']}.pt", half=True, history=r['history'], epoch=saved['epoch'], train_config=saved['train_config'])
        (out/f'{a.set}.json').write_text(json.dumps({'device': str(device), 'gpu': torch.cuda.get_device_name() if device.type == 'cuda' else None,
                                                 'torch': torch.__version__, 'val_faces': len(val_ids), 'loader_check': loader, 'runs': results}, indent=1))
    if a.no_throughput: return
    (out/'gpu_throughput.json').write_text(json.dumps(gpu_throughput(device, (64,), 2) if a.smoke else gpu_throughput(device), indent=1))
    print(open(out/'gpu_throughput.json').read())

if __name__ == '__main__':
    main()
