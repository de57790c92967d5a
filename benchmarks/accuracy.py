"""Accuracy and speed of the shipped model against landmark-based peers, on the same images with the same metric code.

Validation faces of CelebAMask-HQ-mini (configs/split_celebamask_mini.json) at 512x512 against the 512 ground truth,
clean and with held-out hands pasted (configs/split_hands.json, one seeded hand per face); the landmark peers
(benchmarks/peers: MediaPipe face mesh, dlib 68 points) run from their own virtualenv on the very same image files.
Writes benchmarks/reports/accuracy.md and .json.

    bash benchmarks/peers/setup_peers.sh          # once: the peers' own virtualenv
    python benchmarks/accuracy.py                  # ~5 min on 2 CPU cores
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
PEERS = REPO/'benchmarks'/'peers'

def latency(weights, files, threads, refine):
    "Median ms of FaceMasker.predict per image and this process's peak RSS (run in a fresh process)."
    import torch
    torch.set_num_threads(threads)
    from facemask.core import read_image
    from facemask.inference import FaceMasker
    masker = FaceMasker.from_pretrained(weights, device='cpu', refine=refine)
    images = [read_image(f) for f in files]
    for im in images[:3]: masker.predict(im)
    times = []
    for im in images:
        t0 = time.perf_counter(); masker.predict(im); times.append((time.perf_counter() - t0) * 1000)
    return {'median_ms': statistics.median(times), 'p90_ms': float(np.percentile(times, 90)), 'n': len(times),
            'peak_rss_mb': peak_rss_mb(), 'threads': threads}

def peak_rss_mb():
    "This process's peak resident memory (VmHWM; unlike ru_maxrss it does not inherit the parent's peak across exec)."
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024

def run_peer(method, files, out_dir, threads):
    "Masks (dict stem -> array) and timings of a landmark peer, or None if its virtualenv is missing."
    py = PEERS/'.venv'/'bin'/'python'
    if not py.exists(): return None
    out_dir.mkdir(parents=True, exist_ok=True)
    lst = out_dir/'list.txt'; lst.write_text('\n'.join(map(str, files)))
    masks, timings = out_dir/method, out_dir/f'{method}.json'
    subprocess.run([str(py), str(PEERS/'landmark_masks.py'), '--method', method, '--list', str(lst), '--out-dir', str(masks),
                    '--timings', str(timings), '--threads', str(threads)], check=True, capture_output=True)
    import cv2
    return {f.stem: cv2.imread(str(masks/f'{f.stem}.png'), cv2.IMREAD_GRAYSCALE) for f in files}, json.loads(timings.read_text())

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--weights', help='checkpoint (default: the shipped model)')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--limit', type=int, help='only the first N validation faces (quick check)')
    p.add_argument('--threads', type=int, default=2); p.add_argument('--peers', default='mediapipe,dlib')
    p.add_argument('--gpu-report', default=str(REPO/'benchmarks/reports/gpu_throughput.json'))
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/accuracy'))
    p.add_argument('--latency', nargs='*', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.latency is not None:  # child process: latency only
        print(json.dumps(latency(a.weights, a.latency, a.threads, refine=True))); return

    import cv2, torch
    torch.set_num_threads(a.threads)
    from facemask.core import write_image
    from facemask.data import prepare
    from facemask.evaluate import benchmark_set, mask_metrics
    from facemask.hands import ObjectOcclusion, hand_bank, split_bank
    from facemask.inference import FaceMasker, default_weights

    split = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())
    prepared = prepare(a.data, REPO/'data'/'bench-prepared')
    ids = split['val'][:a.limit]
    hand_split = json.loads((REPO/'configs/split_hands.json').read_text())
    _, val_hands = split_bank(hand_bank(a.hands), 0.25, 0)
    assert sorted({c.source.split('#')[0] for c in val_hands}) == hand_split['val'], 'hand split changed'
    masker = FaceMasker.from_pretrained(a.weights, device='cpu')
    tmp = Path(tempfile.mkdtemp())
    report = {'weights': str(a.weights or default_weights(accurate=False).name), 'faces': len(ids), 'data': 'CelebAMask-HQ-mini validation split (configs/split_celebamask_mini.json), 512x512',
              'hands': f"{len(val_hands)} held-out hand cut-outs from {len(hand_split['val'])} photos", 'accuracy': {}, 'speed': {}}
    files = {}
    for name, hands, occlusion in (('clean', None, None), ('hands', val_hands, None), ('objects', None, ObjectOcclusion(p=1.0))):
        images, masks, occs = benchmark_set(prepared, ids, hands, occlusion=occlusion)
        folder = tmp/name; folder.mkdir()
        files[name] = [write_image(folder/f'{i}.png', im) for i, im in zip(ids, images)]  # lossless: peers see the same pixels
        preds = [masker.predict(im) for im in images]
        report['accuracy'].setdefault('facemask', {})[name] = mask_metrics(preds, masks, occs if name != 'clean' else None)[0]
        for method in filter(None, a.peers.split(',')):
            got = run_peer(method, files[name], tmp/f'{name}_{method}', a.threads)
            if got is None: report['accuracy'].setdefault(method, {})[name] = 'not run: bash benchmarks/peers/setup_peers.sh first'; continue
            peer_masks, timings = got
            report['accuracy'].setdefault(method, {})[name] = mask_metrics([peer_masks[f'{i}'] for i in ids], masks, occs if name != 'clean' else None)[0]
            if name == 'clean': report['speed'][method] = {'median_ms': timings['median_ms'], 'peak_rss_mb': timings['peak_rss_mb'], 'threads': a.threads}
        print(name, json.dumps({m: round(v[name]['pooled_iou'], 4) for m, v in report['accuracy'].items() if isinstance(v.get(name), dict)}), flush=True)
    child = subprocess.run([sys.executable, __file__, '--threads', str(a.threads), *(['--weights', a.weights] if a.weights else []),
                            '--latency', *map(str, files['clean'])], capture_output=True, text=True, check=True)
    report['speed']['facemask'] = json.loads(child.stdout.strip().splitlines()[-1])
    report['hardware'] = {'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), 'unknown'),
                          'cores_used': a.threads, 'torch': torch.__version__}
    if Path(a.gpu_report).exists(): report['gpu'] = json.loads(Path(a.gpu_report).read_text())
    report['date'] = time.strftime('%Y-%m-%d')
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(report, indent=1))
    out.with_suffix('.md').write_text(markdown(report))
    print(out.with_suffix('.md').read_text())

def markdown(r):
    rows = ['| method | set | IoU pooled | IoU mean/img | Dice pooled | precision | recall | occluder px called face |', '|' + '---|' * 8]
    for method, sets in r['accuracy'].items():
        for name, m in sets.items():
            if not isinstance(m, dict): rows.append(f'| {method} | {name} | {m} |||||| '); continue
            haf = f"{m['hand_as_face']:.1%}" if 'hand_as_face' in m else ''
            rows.append(f"| {method} | {name} | {m['pooled_iou']:.4f} | {m['mean_iou']:.4f} | {m['pooled_dice']:.4f} | {m['pooled_precision']:.4f} | {m['pooled_recall']:.4f} | {haf} |")
    speed = ['| method | median ms / 512x512 photo | peak RSS MB |', '|---|---|---|'] + [
        f"| {k} | {v['median_ms']:.1f} | {v['peak_rss_mb']:.0f} |" for k, v in r['speed'].items()]
    gpu = ''
    if 'gpu' in r:
        gpu = f"\n## GPU throughput ({r['gpu']['device']}, torch {r['gpu']['torch']})\n\n" + '\n'.join(f'- {k}: {v}' for k, v in r['gpu'].items() if k.endswith('per_s'))
    return f"""# Accuracy and speed: facemask vs landmark-based masks

Measured {r['date']} by `benchmarks/accuracy.py`. Data: {r['data']}, {r['faces']} faces; "hands": the same faces with one of {r['hands']} pasted (seeded, lifelike placement; never used in training); "objects": the same faces with one generated object (phone, cup, microphone, card or blob with a generated texture; `facemask.hands.ObjectOcclusion`, seeded) held over the face (the same generator training used at p=0.15, so not an unseen kind of occluder). Peers: landmark polygons (MediaPipe face-mesh face oval; dlib 68-point jaw + brows) from `benchmarks/peers/`, on the same PNG files, scored by the same code (`facemask.evaluate.mask_metrics`). Model: `{r['weights']}` through `FaceMasker.predict`.

## Accuracy (512x512 vs the 512 ground truth)

{chr(10).join(rows)}

## Speed (CPU: {r['hardware']['cpu']}, {r['hardware']['cores_used']} threads, torch {r['hardware']['torch']})

{chr(10).join(speed)}
{gpu}
"""

if __name__ == '__main__':
    main()
