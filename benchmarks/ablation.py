"""Occlusion ablation: the same model, budget and seed trained without occlusion augmentation, with the original
work's random hand paste, and with the lifelike recipe; scored on clean validation faces, on the same faces with
held-out hands, and on the share of hand pixels called face. Writes benchmarks/reports/ablation.md/.json and a
before/after figure.

    python benchmarks/ablation.py --train            # trains runs/ablation/{none,random,realistic} first (GPU advised)
    python benchmarks/ablation.py none=a.pt random=b.pt realistic=c.pt

Besides the table: how sure the differences are (a paired bootstrap over the validation faces, and the hands set
drawn with other paste seeds), and where each model's errors lie (hand called face, face missed near the
occluder's edge, other errors), which is what the hands - clean gap is made of, and the clean score without the
validation photos that already have a real hand or object on the face (configs/val_real_occluders.json).
"""
import argparse, json, subprocess, sys, time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'
RECIPES = ('none', 'random', 'realistic')

def error_parts(preds, masks, occs, band=8):
    "Wrong pixels as shares of the ground-truth face area: occluder called face, face missed within `band` px of the occluder, face missed elsewhere, background called face."
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    parts = dict.fromkeys(('occluder_called_face', 'face_missed_near_occluder', 'face_missed_elsewhere', 'background_called_face'), 0)
    face = 0
    for p, m, o in zip(preds, masks, occs):
        p, m, o = p > 127, m > 127, o > 127
        near = cv2.dilate(o.astype(np.uint8), kernel) > 0
        parts['occluder_called_face'] += int((p & o).sum()); parts['background_called_face'] += int((p & ~m & ~o).sum())
        parts['face_missed_near_occluder'] += int((~p & m & near).sum()); parts['face_missed_elsewhere'] += int((~p & m & ~near).sum())
        face += int(m.sum())
    return {k: v / face for k, v in parts.items()}

def recipe(path):
    "What a checkpoint was trained with: its saved `train_config`, else the overrides of the `gpu_runs.py` run it is named after."
    import torch
    from gpu_runs import RUN_SETS
    ck = torch.load(path, map_location='cpu', weights_only=False)
    c = ck.get('train_config') or {**json.loads((REPO/'configs/default.json').read_text()),
                                    **next((runs[Path(path).stem] for runs in RUN_SETS.values() if Path(path).stem in runs), {})}
    history = ck.get('history') or []
    keys = ('occlusion', 'p_hand', 'p_object', 'object_textures') if c.get('occlusion') == 'realistic' else ('occlusion', 'p_hand') if c.get('occlusion') == 'random' else ('occlusion',)
    keys += ('hand_mirror',) if c.get('hand_mirror') else ()
    extra = {'seed': c['seed']} if c.get('seed') else {}
    split_seed = c.get('hand_split_seed', c.get('seed', 0))  # before hand_split_seed existed, the hand split followed `seed`
    if c.get('occlusion') != 'none' and split_seed: extra['hand_split_seed'] = f'{split_seed} (not all of the held-out hands below are unseen)'
    if c.get('init'): extra |= {'fine-tuned from': Path(c['init']).name, 'lr': c.get('lr')}
    best = ck['epoch'] + 1 if 'epoch' in ck else int(np.argmax([h['val_iou'] for h in history])) + 1 if history else None
    return {**{k: c.get(k) for k in keys}, **extra, 'input_size': ck['config']['input_size'], 'epochs': c.get('epochs'), 'epochs_run': len(history) or c.get('epochs'), 'best_epoch': best}

def pooled_iou(counts): return counts[..., 0].sum(-1) / counts.sum((-2, -1))

def threshold_sweep(masker, sets, thresholds):
    "Pooled IoU of `masker`'s probabilities cut at each threshold, per benchmark set."
    from facemask.evaluate import confusion
    out = {}
    for name, (images, masks, _) in sets.items():
        counts = np.zeros((len(thresholds), len(images), 3))
        for i in range(0, len(images), 8):
            for j, prob in enumerate(masker.predict_proba(images[i:i + 8]), i):
                counts[:, j] = [confusion(prob > t, masks[j]) for t in thresholds]
        out[name] = pooled_iou(counts).tolist()
    return out

def bootstrap(counts_a, counts_b, n=2000, seed=0):
    "95% interval of pooled IoU(a) - IoU(b) over faces resampled with replacement (paired: the same faces for both)."
    rng = np.random.default_rng(seed)
    diffs = [pooled_iou(counts_a[i]) - pooled_iou(counts_b[i]) for i in (rng.integers(0, len(counts_a), len(counts_a)) for _ in range(n))]
    return [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('checkpoints', nargs='*', help='name=path pairs (default: runs/ablation/<recipe>/best.pt)')
    p.add_argument('--train', action='store_true', help='train the missing runs with configs/default.json')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--hand-seeds', type=int, nargs='+', default=[0, 1, 2], help='paste seeds of the hands set (the table uses the first)')
    p.add_argument('--limit', type=int); p.add_argument('--out', default=str(REPO/'benchmarks/reports/ablation'))
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    from facemask.core import read_image, write_image
    from facemask.data import prepare
    from facemask.evaluate import benchmark_set, confusion, evaluate
    from facemask.hands import face_box, hand_bank, paste, random_object, split_bank
    from facemask.inference import FaceMasker, overlay

    prepared = prepare(a.data, REPO/'data'/'bench-prepared')
    ckpts = dict(kv.split('=', 1) for kv in a.checkpoints) or {r: f'runs/ablation/{r}/best.pt' for r in RECIPES}
    for name, path in ckpts.items():
        if not Path(path).exists():
            if not a.train: sys.exit(f'{path}: missing; pass --train or name=path checkpoints')
            subprocess.run([sys.executable, '-m', 'facemask.cli', 'train', '--config', str(REPO/'configs/default.json'), '--data', str(prepared),
                            '--hands', a.hands, '--occlusion', name, '--out', str(Path(path).parent)], check=True)
    split = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())
    ids = split['val'][:a.limit]
    train_hands, val_hands = split_bank(hand_bank(a.hands), 0.25, 0)
    sets = {'clean': benchmark_set(prepared, ids), 'hands': benchmark_set(prepared, ids, val_hands, seed=a.hand_seeds[0])}
    sets |= {f'hands_seed{k}': benchmark_set(prepared, ids, val_hands, seed=k) for k in a.hand_seeds[1:]}
    maskers = {n: FaceMasker.from_pretrained(p, device='cpu') for n, p in ckpts.items()}
    report = {'faces': len(ids), 'checkpoints': {n: str(p) for n, p in ckpts.items()}, 'date': time.strftime('%Y-%m-%d'),
              'hand_seeds': a.hand_seeds, 'results': {}, 'errors': {}, 'bootstrap': {}}
    report['recipes'] = {n: recipe(p) for n, p in ckpts.items()}
    counts, report['cut_out'] = {}, {}
    for name, m in maskers.items():
        r, report['errors'][name], preds = {}, {}, {}
        for s_name, (images, masks, occs) in sets.items():
            r[s_name], _, preds[s_name] = evaluate(m.predict, images, masks, occs)
            counts[name, s_name] = np.array([confusion(p, t) for p, t in zip(preds[s_name], masks)], dtype=np.float64)
            if s_name in ('clean', 'hands'): report['errors'][name][s_name] = error_parts(preds[s_name], masks, occs)
        _, masks, occs = sets['hands']  # the clean mask with the hand cut out: a model that handles hands perfectly
        report['cut_out'][name] = float(pooled_iou(np.array([confusion(np.where(o > 127, 0, p), t) for p, t, o in zip(preds['clean'], masks, occs)], dtype=np.float64)))
        report['results'][name] = r
        print(name, {s: round(v['pooled_iou'], 4) for s, v in r.items()}, 'hand_as_face', round(r['hands']['hand_as_face'], 4), flush=True)
    # the decision threshold, looked at on training faces (half of them) with training hands only: the validation split stays untouched
    train_ids = split['train'][::2][:a.limit]
    train_sets = {'clean': benchmark_set(prepared, train_ids), 'hands': benchmark_set(prepared, train_ids, train_hands)}
    report['thresholds'] = {'values': [0.3, 0.4, 0.5, 0.6, 0.7], 'train_faces': len(train_ids)}
    for name, m in maskers.items():
        report['thresholds'][name] = threshold_sweep(m, train_sets, report['thresholds']['values'])
        print('thresholds', name, report['thresholds'][name], flush=True)
    # faces whose photo already has a real hand or object on the face (labelled by eye): the clean score with and without them
    real = set(json.loads((REPO/'configs/val_real_occluders.json').read_text())['ids'])
    inside = np.array([i in real for i in ids])
    report['real_occluders'] = {'faces': int(inside.sum()), 'results': {n: {'without': float(pooled_iou(counts[n, 'clean'][~inside])),
                                'only': float(pooled_iou(counts[n, 'clean'][inside])) if inside.any() else None} for n in maskers}}
    if RECIPES[0] in maskers:
        for n in maskers:
            if n != RECIPES[0]: report['real_occluders']['results'][n]['without_minus_none'] = bootstrap(counts[n, 'clean'][~inside], counts[RECIPES[0], 'clean'][~inside])
    hand_sets = ['hands'] + [f'hands_seed{k}' for k in a.hand_seeds[1:]]
    for name in maskers:
        b = report['bootstrap'][name] = {'gap_by_seed': [report['results'][name]['clean']['pooled_iou'] - report['results'][name][h]['pooled_iou'] for h in hand_sets]}
        if name != RECIPES[0] and RECIPES[0] in maskers:
            b['clean_minus_none'] = bootstrap(counts[name, 'clean'], counts[RECIPES[0], 'clean'])
        b['clean_minus_hands'] = bootstrap(counts[name, 'clean'], counts[name, 'hands'])
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(report, indent=1))
    out.with_suffix('.md').write_text(markdown(report, out.stem))
    print(out.with_suffix('.md').read_text())

    # figures: held-out hands on validation faces (research-only data: kept out of git), and an object on the public-domain example
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    figs = out.parent/'figures'; figs.mkdir(exist_ok=True)
    images, masks, occs = sets['hands']
    picks = np.argsort([-o.mean() for o in occs])[:3]
    hopper = read_image(REPO/'examples'/'grace_hopper.jpg')
    base = maskers[next(iter(maskers))].predict(hopper)
    cx, cy, fw, fh = face_box(base)  # a generated phone held over the mouth and cheek
    phone = next(o for k in range(50) if (o := random_object(np.random.default_rng(k), 0.7 * fh)).source == 'phone')
    occluded = paste(hopper, base, phone, cx + 0.1 * fw, cy + 0.05 * fh, angle=15, rng=np.random.default_rng(0))[0]
    shown = dict(list(maskers.items())[:3])
    for fname, folder, rows in ((f'{out.stem}_hands.png', figs, [images[i] for i in picks]), (f'{out.stem}_example_object.png', out.parent, [occluded])):
        fig, axs = plt.subplots(len(rows), len(shown), figsize=(3.2 * len(shown), 3.4 * len(rows)), squeeze=False)
        for r, im in enumerate(rows):
            for c, (name, m) in enumerate(shown.items()):
                axs[r, c].imshow(overlay(im, m.predict(im))); axs[r, c].axis('off')
                if r == 0: axs[r, c].set_title(f'trained with: {name}')
        fig.tight_layout(); fig.savefig(folder/fname, dpi=100); plt.close(fig)

def markdown(r, stem='ablation'):
    def rec(c):
        return ', '.join(f'{k} {v}' for k, v in c.items() if k not in ('epochs', 'epochs_run', 'best_epoch'))
    def ep(c):
        return (f"{c['epochs_run']} of {c['epochs']}" if c['epochs_run'] != c['epochs'] else f"{c['epochs']}") + f" (best {c['best_epoch']})"
    recipes = [f"| {n} | {rec(c)} | {ep(c)} | `{r['checkpoints'][n]}` |" for n, c in r['recipes'].items()]
    cut = [f"| {n} | {v['clean']['pooled_iou']:.4f} | {v['hands']['pooled_iou']:.4f} | {r['cut_out'][n]:.4f} | {v['clean']['pooled_iou'] - r['cut_out'][n]:+.4f} | "
           f"{r['cut_out'][n] - v['hands']['pooled_iou']:+.4f} |" for n, v in r['results'].items()]
    rows = [f"| {n} | {v['clean']['pooled_iou']:.4f} | {v['clean']['mean_iou']:.4f} | {v['hands']['pooled_iou']:.4f} | {v['hands']['mean_iou']:.4f} | "
            f"{v['clean']['pooled_iou'] - v['hands']['pooled_iou']:+.4f} | {v['hands']['hand_as_face']:.1%} |" for n, v in r['results'].items()]
    th = r['thresholds']
    thr_head = '| trained with | set | ' + ' | '.join(f'threshold {t}' for t in th['values']) + ' |\n|---|---|' + '---|' * len(th['values'])
    thr = [row for n in r['results'] for row in ([f"| {n} | {s} | " + ' | '.join(f'{v:.4f}' for v in th[n][s]) + ' |' for s in ('clean', 'hands')]
           + [f"| {n} | clean - hands | " + ' | '.join(f'{c - h:+.4f}' for c, h in zip(th[n]['clean'], th[n]['hands'])) + ' |'])]
    fmt = lambda iv: f'{iv[0]:+.4f} to {iv[1]:+.4f}'
    sure = [f"| {n} | {fmt(b['clean_minus_none']) if 'clean_minus_none' in b else '(reference)'} | {fmt(b['clean_minus_hands'])} | "
            f"{', '.join(f'{g:+.4f}' for g in b['gap_by_seed'])} |" for n, b in r['bootstrap'].items()]
    ro = r['real_occluders']
    real = [f"| {n} | {r['results'][n]['clean']['pooled_iou']:.4f} | {v['without']:.4f} | {fmt(v['without_minus_none']) if 'without_minus_none' in v else '(reference)'} | "
            f"{v['only']:.4f} |" for n, v in ro['results'].items()] if ro['faces'] else []
    errs = [f"| {n} | {s} | {e['occluder_called_face']:.2%} | {e['face_missed_near_occluder']:.2%} | {e['face_missed_elsewhere']:.2%} | {e['background_called_face']:.2%} |"
            for n, v in r['errors'].items() for s, e in v.items()]
    return f"""# Occlusion ablation

Measured {r['date']} by `benchmarks/ablation.py` on CPU (2 threads). MobileNetV2 U-Nets trained from `configs/default.json`
(same data, same seed, same epochs) with only the occlusion augmentation changed; where and how each was trained is in
`training_runs.md`. Scored through `FaceMasker.predict` on the {r['faces']} validation faces of CelebAMask-HQ-mini at
512x512, clean, and with one of the held-out hands (`configs/split_hands.json`, never seen in training) pasted per face
by the lifelike placement.

- none: no occlusion augmentation (flips, rotation, scale, shift, colour only).
- random: the original work's recipe, a hand at a random place and right angle, no matching (`RandomHandPaste`).
- realistic: lifelike hands (`HandOcclusion`, sometimes two), objects (`ObjectOcclusion`) filled with crops of
  training photos (`object_textures`: from anywhere in the photo, or only from its face-free parts) and face-free
  photos (`NoFace`, p=0.05).

| trained with | recipe | epochs (best) | checkpoint |
|---|---|---|---|
{chr(10).join(recipes)}

| trained with | clean IoU pooled | clean IoU mean/img | hands IoU pooled | hands IoU mean/img | clean - hands | hand px called face |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Targets (issue 4): hands IoU within 0.02 of clean; hand pixels called face at most 3%; clean IoU no worse than
without occlusion. `{stem}_example_object.png` shows the first three models on the public-domain example photo with a
generated object over the face; the same figure with held-out hands on validation faces is written to
`reports/figures/{stem}_hands.png` and kept out of git (CelebAMask-HQ is research-only).

## How much of the gap is the metric's

A hand takes face pixels away, so the same outline errors weigh more against a smaller face. "Hand cut out" scores each
model's prediction on the clean photo with the pasted hand's pixels removed, against the ground truth with the hand: what
the model would score if it handled the hand perfectly and the rest of the face as it does without the hand. Its drop
from clean IoU is the metric's share of the gap; what the model loses beyond that is its own.

| trained with | clean IoU | hands IoU | hand cut out | clean - hand cut out (the metric's share) | hand cut out - hands (the model's share) |
|---|---|---|---|---|---|
{chr(10).join(cut)}

## How sure

95% intervals from a paired bootstrap over the {r['faces']} faces (2,000 resamples; the same faces for every model), and the
hands set drawn again with other paste seeds ({', '.join(map(str, r['hand_seeds']))}: other hands, places and angles on the same faces).

| trained with | clean IoU - none's, 95% interval | clean - hands, 95% interval | clean - hands for each paste seed |
|---|---|---|---|
{chr(10).join(sure)}

## Faces that already have a hand or object on them

{ro['faces']} of the validation photos have a real hand or object touching or over the face (labelled by eye:
`configs/val_real_occluders.json`). On two of them the CelebAMask-HQ mask labels the occluder face (a hand on a cheek, a
lace veil), so a model that leaves the hand out, as this project's masks should, loses clean IoU there; on the others
the mask leaves the occluder out. Clean IoU pooled over all faces, over the faces without such an occluder (with the
paired 95% interval of the difference to `none` on those faces), and over these {ro['faces']} alone:

| trained with | clean IoU, all | without real occluders | without, minus none's (95% interval) | only these faces |
|---|---|---|---|---|
{chr(10).join(real)}

## Where the errors are

Wrong pixels as a share of the ground-truth face area, on the clean faces and with hands (paste seed {r['hand_seeds'][0]}):
the hand called face, face missed within 8 px of the hand's edge, face missed elsewhere, and background (not the hand)
called face. On clean faces every missed pixel is "elsewhere".

| trained with | set | hand called face | face missed near the hand | face missed elsewhere | background called face |
|---|---|---|---|---|---|
{chr(10).join(errs)}

## The decision threshold, on training faces

Could a different threshold trade the lost clean IoU back? Looked at without touching the validation split: pooled IoU on
{th['train_faces']} training faces (every other one) clean and with the training hands pasted (paste seed 0), cutting each model's
probabilities at several thresholds. The models have seen these faces (not with these placements), so the numbers
are higher than on validation faces; what matters is where each row peaks and how the gap moves.

{thr_head}
{chr(10).join(thr)}
"""

if __name__ == '__main__':
    main()
