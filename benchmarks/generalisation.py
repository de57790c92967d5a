"""Generalisation: face-mask models on photos outside the training distribution. Scores each model on the clean
validation faces, the same faces with held-out hands, validation photos with a real hand or object on the face, skin
lightness quartiles, photos without a face (../shared/data/no-face; also in generated low light) and turned heads
(../shared/data/multipose).
Writes <out>.json and <out>.md (default benchmarks/reports/generalisation) and, with --figure, a grid of the models'
masks on the repository's own example photos.

    python benchmarks/generalisation.py                      # the shipped model
    python benchmarks/generalisation.py shipped=facemask/weights/facemask_mobilenetv2.pt \
        'shipped_norefine=facemask/weights/facemask_mobilenetv2.pt;refine=false' --figure

    python benchmarks/generalisation.py --add new=runs/new/last.pt   # score one more model into the current report

A spec is `path` or `path;key=value;...`: the pairs (values read as JSON, else as strings) go to FaceMasker.from_pretrained.
A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, re, sys, time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
from ablation import bootstrap, pooled_iou
from noface_all import cpu_name
from facemask.data import MULTIPOSE_VAL_PEOPLE

SHARED = REPO.parent/'shared'/'data'
LABELLED_FACE = (28, 251)  # real-occluder photos whose CelebAMask-HQ mask labels the occluder face (configs/val_real_occluders.json)
SETS = ('clean', 'hands')
FACE_OVALS = {'astronaut': ((223, 133), (50, 60)), 'grace_hopper': ((245, 238), (95, 108))}  # (centre, half axes) of the example faces, px

def f4(v): return '-' if v is None else f'{v:.4f}'

def same(before, now, tol=1e-4):
    "Whether every value of `before` is in `now` and equal to it (numbers within `tol`: threads may move the last digits)."
    if isinstance(before, dict): return isinstance(now, dict) and all(k in now and same(v, now[k], tol) for k, v in before.items())
    if isinstance(before, list): return isinstance(now, list) and len(before) == len(now) and all(same(a, b, tol) for a, b in zip(before, now))
    if isinstance(before, float) and isinstance(now, (int, float)): return abs(before - now) <= tol
    return before == now

def parse_spec(spec):
    "(path, kwargs) of a `path;key=value;...` model spec."
    path, *pairs = spec.split(';')
    def value(v):
        try: return json.loads(v)
        except json.JSONDecodeError: return v
    return path, {k: value(v) for k, v in (p.split('=', 1) for p in pairs)}

def predict_all(masker, images):
    "0/255 masks of `images`, predicted in batches of 8."
    return [m for i in range(0, len(images), 8) for m in masker.predict(images[i:i + 8])]

def face_counts(preds, masks):
    "Per-image (tp, fp, fn) as a float array."
    from facemask.evaluate import confusion
    return np.array([confusion(p, t) for p, t in zip(preds, masks)], dtype=np.float64)

def hull_gap(mask):
    "The filled convex hull of the face mask minus the mask: where an occluder cuts into the face."
    hull = np.zeros_like(mask)
    if mask.any(): cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero((mask > 127).astype(np.uint8))), 255)
    return (hull > 0) & (mask <= 127)

def size_range(images):
    "Heights and widths of `images` as text."
    span = lambda v: f'{min(v)}' if min(v) == max(v) else f'{min(v)}-{max(v)}'
    hs, ws = zip(*(im.shape[:2] for im in images))
    return f'{span(hs)} px tall, {span(ws)} px wide'

def side_by_side(animal, face, mask):
    "(photo, face mask, width of the animal part): an animal photo with a face photo, resized to its height, on its right."
    h = animal.shape[0]
    face, mask = cv2.resize(face, (h, h), interpolation=cv2.INTER_AREA), cv2.resize(mask, (h, h), interpolation=cv2.INTER_NEAREST)
    return np.concatenate([animal, face], 1), np.concatenate([np.zeros(animal.shape[:2], np.uint8), mask], 1), animal.shape[1]

def load(a):
    "All benchmark sets, each cut to `a.limit` items."
    from facemask.core import read_image
    from facemask.data import face_lightness, lightness_quartiles, prepare
    from facemask.evaluate import benchmark_set
    from facemask.hands import hand_bank, is_animal, split_bank
    prepared = prepare(a.data, REPO/'data'/'bench-prepared')
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:a.limit]
    real_ids = json.loads((REPO/'configs/val_real_occluders.json').read_text())['ids'][:a.limit]
    val_hands = split_bank(hand_bank(a.hands), 0.25, 0)[1]
    d = {'ids': ids, 'clean': benchmark_set(prepared, ids), 'hands': benchmark_set(prepared, ids, val_hands, seed=0), 'real_ids': real_ids}
    d['real'] = benchmark_set(prepared, real_ids)[:2]
    light = [face_lightness(im, m) for im, m in zip(*d['clean'][:2])]
    d['lightness'], d['quartile'] = np.array(light), np.array(lightness_quartiles(light))
    d['tenth'] = np.argsort(light)[:max(1, round(0.1 * len(ids)))]
    d['noface_names'] = json.loads((REPO/'configs/split_noface.json').read_text())['val'][:a.limit]
    d['noface'] = [read_image(Path(a.noface)/'images'/n) for n in d['noface_names']]
    d['animal'] = np.array([is_animal(n) for n in d['noface_names']])
    from facemask.hands import FaceCovering, relight, shift_skin_tone
    rng, cover = np.random.default_rng(0), FaceCovering(p=1.0)
    d['covered'] = list(zip(*[cover.apply(im, m, rng)[:2] for im, m in zip(*d['clean'][:2])]))
    d['dim'] = ([relight(shift_skin_tone(im, m, rng.uniform(0.35, 0.7), rng.uniform(-4, 10)), rng, 'low') for im, m in zip(*d['clean'][:2])], d['clean'][1])
    dark = np.random.default_rng(1)  # its own generator: the sets above stay as they were
    d['dark_noface'] = [relight(im, dark, 'low') for im in d['noface']]
    animals = [im for im, is_animal in zip(d['noface'], d['animal']) if is_animal]
    d['pairs'] = [side_by_side(an, f, m) for an, f, m in zip(animals, *d['clean'][:2])]
    files = sorted((Path(a.multipose)/'images').glob('*.jpg'))[:a.limit]
    d['pose_names'], d['pose'] = [f.name for f in files], [read_image(f) for f in files]
    d['pose_labels'] = [cv2.imread(str(Path(a.multipose)/'labels'/f'{f.stem}.png'), cv2.IMREAD_UNCHANGED) for f in files]
    d['yaw'] = np.array([abs(int(re.search(r'yaw([+-]?\d+)', n).group(1))) for n in d['pose_names']])
    return d

def score(masker, d):
    "Every metric of one model, and its per-face confusion counts on the clean and hands sets."
    from facemask.evaluate import mask_metrics
    r, counts = {}, {}
    for s in SETS:
        images, masks, occs = d[s]
        preds = predict_all(masker, images)
        m, _ = mask_metrics(preds, masks, occs if s == 'hands' else None)
        r[s] = {k: m[k] for k in ('pooled_iou', 'mean_iou', 'hand_as_face') if k in m}
        counts[s] = face_counts(preds, masks)
    preds, masks = predict_all(masker, d['real'][0]), d['real'][1]
    c, gaps = face_counts(preds, masks), [hull_gap(m) for m in masks]
    keep = np.array([i not in LABELLED_FACE for i in d['real_ids']])
    r['real_occluders'] = {'pooled_iou': float(pooled_iou(c)), 'pooled_iou_without_28_251': float(pooled_iou(c[keep])) if keep.any() else None,
                           'hull_gap_px': int(sum(g.sum() for g in gaps)),
                           'hull_gap_called_face': sum(int((g & (p > 127)).sum()) for g, p in zip(gaps, preds)) / max(1, sum(int(g.sum()) for g in gaps))}
    q, overall = d['quartile'], float(pooled_iou(counts['clean']))
    r['skin'] = {'quartile_iou': [float(pooled_iou(counts['clean'][q == k])) if (q == k).any() else None for k in range(4)],
                 'darkest_tenth_iou': float(pooled_iou(counts['clean'][d['tenth']]))}
    r['skin']['darkest_quartile_gap'] = overall - r['skin']['quartile_iou'][0]
    px, everyone = np.array([p.size for p in d['noface']]), np.ones(len(d['noface']), bool)
    def painted(images):
        "For the no-face photos `images` (in daylight or dark): a summary of any selection of them, and the photos painted."
        share = np.array([(p > 127).mean() for p in predict_all(masker, images)])
        summary = lambda sel: {'photos_with_face_px': float((share[sel] > 0).mean()), 'pixels_called_face': float((share[sel] * px[sel]).sum() / px[sel].sum())} if sel.any() else None
        return summary, {'animal_photos_with_face_px': int((share[d['animal']] > 0).sum()),
                         'with_face_px': [[d['noface_names'][i], float(share[i])] for i in np.argsort(-share) if share[i] > 0]}
    summary, photos = painted(d['noface'])
    r['no_face'] = {'all': summary(everyone), 'animals': summary(d['animal'])} | photos
    summary, photos = painted(d['dark_noface'])
    r['dark_no_face'] = summary(everyone) | photos
    for s in ('covered', 'dim'):
        c = face_counts(predict_all(masker, d[s][0]), d[s][1])
        r[s] = {'pooled_iou': float(pooled_iou(c)), 'faces_lost': int((c[:, 0] / np.maximum(1, c.sum(1)) < 0.5).sum())}
    preds = predict_all(masker, [im for im, _, _ in d['pairs']])
    c = face_counts([p[:, w:] for p, (_, _, w) in zip(preds, d['pairs'])], [m[:, w:] for _, m, w in d['pairs']])
    pet = [p[:, :w] > 127 for p, (_, _, w) in zip(preds, d['pairs'])]
    r['pairs'] = {'n': len(preds), 'face_iou': float(pooled_iou(c)), 'faces_lost': int((c[:, 0] / np.maximum(1, c.sum(1)) < 0.5).sum()),
                  'animals_with_face_px': int(sum(a.any() for a in pet)), 'animal_pixels_called_face': float(sum(a.sum() for a in pet) / sum(a.size for a in pet))}
    preds = predict_all(masker, d['pose'])
    hit = np.array([int((p[np.isin(l, (3, 4, 5))] > 127).sum()) for p, l in zip(preds, d['pose_labels'])])
    parts = np.array([int(np.isin(l, (3, 4, 5)).sum()) for l in d['pose_labels']])
    recall = lambda sel: float(hit[sel].sum() / parts[sel].sum()) if sel.any() else None
    y = d['yaw']
    r['multipose'] = {'recall_yaw_0_30': recall(y <= 30), 'recall_yaw_45_90': recall(y >= 45),
                      'recall_by_yaw': {int(v): recall(y == v) for v in np.unique(y)},
                      'empty': [n for n, p in zip(d['pose_names'], preds) if not p.any()],
                      'background_called_face': sum(int((p[l == 0] > 127).sum()) for p, l in zip(preds, d['pose_labels'])) / sum(int((l == 0).sum()) for l in d['pose_labels'])}
    held = np.array([n.split('_')[0] in MULTIPOSE_VAL_PEOPLE for n in d['pose_names']])  # never trained on, whatever the recipe
    r['multipose']['held_out'] = {'recall_yaw_45_90': recall(held & (y >= 45)), 'empty': [n for n in r['multipose']['empty'] if n.split('_')[0] in MULTIPOSE_VAL_PEOPLE]}
    return r, counts

def targets(r):
    "The issue's targets: (value, its format, met) per target."
    mp, nf, gap = r['multipose']['held_out'], r['no_face'], r['skin']['darkest_quartile_gap']
    far = mp['recall_yaw_45_90']
    t = {'clean IoU >= 0.951': (r['clean']['pooled_iou'], '.4f', r['clean']['pooled_iou'] >= 0.951),
         'held-out hand px called face <= 2%': (r['hands']['hand_as_face'], '.2%', r['hands']['hand_as_face'] <= 0.02),
         'darkest quartile IoU within 0.015 of clean IoU': (gap, '+.4f', gap <= 0.015),
         'no-face photos with any face px <= 1%': (nf['all']['photos_with_face_px'], '.1%', nf['all']['photos_with_face_px'] <= 0.01),
         'no-face pixels called face <= 0.05%': (nf['all']['pixels_called_face'], '.3%', nf['all']['pixels_called_face'] <= 0.0005),
         'no animal photo with face px (photos)': (nf['animal_photos_with_face_px'], 'd', nf['animal_photos_with_face_px'] == 0),
         'multipose, held-out people: no empty mask (empty masks)': (len(mp['empty']), 'd', not mp['empty']),
         'multipose, held-out people: eyes/nose/mouth recall at yaw ±45 to ±90 >= 0.92': (far, '.4f', far is not None and far >= 0.92)}
    return {k: (v, f, bool(ok)) for k, (v, f, ok) in t.items()}

def example_photos():
    "(title, photo) per failure kind, from the repository's public-domain examples and generated from them (never ../shared's data)."
    from facemask.core import read_image
    from facemask.hands import FaceCovering, relight, shift_skin_tone
    ex = {n: read_image(REPO/'examples'/f'{n}.jpg') for n in ('cat', 'coffee', 'astronaut', 'grace_hopper')}
    def face(n):  # the coverings and the skin are fitted to an oval placed by hand over each face, hairline to chin
        oval = np.zeros(ex[n].shape[:2], np.uint8)
        cv2.ellipse(oval, *FACE_OVALS[n], 0, 0, 360, 255, -1)
        return oval
    covered = lambda n, kind: FaceCovering(p=1.0, kinds=[kind])(ex[n], face(n), np.random.default_rng(0))[0]
    darker = shift_skin_tone(ex['astronaut'], face('astronaut'), 0.45, 6)
    h, hop = ex['cat'].shape[0], ex['grace_hopper']
    with_pet = np.concatenate([ex['cat'], cv2.resize(hop, (round(hop.shape[1] * h / hop.shape[0]), h), interpolation=cv2.INTER_AREA)], 1)
    return [('pet (cat.jpg)', ex['cat']), ('object (coffee.jpg)', ex['coffee']), ('person with a pet (cat.jpg, grace_hopper.jpg)', with_pet),
            ('surgical mask (generated on astronaut.jpg)', covered('astronaut', 'surgical')),
            ('cloth mask (generated on grace_hopper.jpg)', covered('grace_hopper', 'cloth')),
            ('darker skin (generated)', darker), ('darker skin, low light (generated)', relight(darker, np.random.default_rng(1), 'low'))]

def figure(maskers, path):
    "Grid of each model's mask over `example_photos`: rows failure kinds, columns models."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    from facemask.inference import overlay
    photos = example_photos()
    heights = [im.shape[0] / im.shape[1] for _, im in photos]
    fig, axs = plt.subplots(len(photos), len(maskers), figsize=(3.2 * len(maskers), sum(3.2 * h + 0.4 for h in heights)), squeeze=False,
                            gridspec_kw={'height_ratios': heights})
    for r, (title, im) in enumerate(photos):
        for c, (name, m) in enumerate(maskers.items()):
            mask = m.predict(im)
            axs[r, c].imshow(overlay(im, mask)); axs[r, c].axis('off')
            axs[r, c].set_title(f'{name}: {(mask > 0).mean():.1%} face\n{title}', fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=80); plt.close(fig)
    return [t for t, _ in photos]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('models', nargs='*', help='name=spec (default: shipped=<the packaged weights>)')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--multipose', default=str(SHARED/'multipose'))
    p.add_argument('--limit', type=int, help='cut every set to N items'); p.add_argument('--out', default=str(REPO/'benchmarks/reports/generalisation'))
    p.add_argument('--figure', action='store_true'); p.add_argument('--figure-out', help='default: <out>_examples.png')
    p.add_argument('--figure-models', help='comma-separated names of the models the figure shows (default: all)')
    p.add_argument('--add', action='store_true', help="score only these models and add their rows to <out>.json's, or score a row of it again in its place (its first model, the reference, is scored again for the paired intervals)")
    a = p.parse_args()
    if a.add and a.figure: p.error('--add keeps the figure of the last full run: leave out --figure')
    import torch; torch.set_num_threads(2)
    from facemask.inference import FaceMasker, default_weights
    t0 = time.time()
    specs = dict(kv.split('=', 1) for kv in a.models) or {'shipped': str(default_weights())}
    if a.add:
        before = json.loads(Path(a.out).with_suffix('.json').read_text())
        reference = next(iter(before['models']))
        if a.limit != before['limit']: sys.exit(f"--add: {a.out}.json was scored with --limit {before['limit']}; score the new rows the same way")
        specs = {reference: before['models'][reference]} | specs
    d = load(a)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'models': specs, 'limit': a.limit,
           'data': {'faces': len(d['ids']), 'real_occluder_ids': d['real_ids'], 'noface': len(d['noface']), 'noface_animals': int(d['animal'].sum()),
                    'noface_size': size_range(d['noface']), 'multipose': len(d['pose']), 'multipose_size': size_range(d['pose']),
                    'lightness_edges': np.nanpercentile(d['lightness'], [25, 50, 75]).tolist(), 'darkest_tenth_faces': len(d['tenth'])},
           'results': {}, 'bootstrap': {}, 'targets': {}, 'seconds': {}}
    maskers, counts = {}, {}
    for name, spec in specs.items():
        t = time.time()
        path, kwargs = parse_spec(spec)
        maskers[name] = FaceMasker.from_pretrained(path, device='cpu', **kwargs)
        r, counts[name] = score(maskers[name], d)
        rep['results'][name], rep['targets'][name], rep['seconds'][name] = r, targets(r), time.time() - t
        print(f"{name}: clean {r['clean']['pooled_iou']:.4f} hands {r['hands']['pooled_iou']:.4f} (hand px called face {r['hands']['hand_as_face']:.2%}) "
              f"real {r['real_occluders']['pooled_iou']:.4f} Q0 gap {r['skin']['darkest_quartile_gap']:+.4f} no-face photos {r['no_face']['all']['photos_with_face_px']:.1%} "
              f"px {r['no_face']['all']['pixels_called_face']:.3%} multipose recall 45-90 {f4(r['multipose']['recall_yaw_45_90'])} empty {len(r['multipose']['empty'])} ({time.time() - t:.0f} s)", flush=True)
    first, q = next(iter(specs)), d['quartile']
    for name in list(specs)[1:]:
        b = {s: bootstrap(counts[name][s], counts[first][s]) for s in SETS}
        rep['bootstrap'][name] = b | {f'quartile{k}': bootstrap(counts[name]['clean'][q == k], counts[first]['clean'][q == k]) for k in range(4) if (q == k).any()}
    if a.figure:
        shown = {n: maskers[n] for n in a.figure_models.split(',')} if a.figure_models else maskers
        rep['figure'] = {'file': str(Path(a.figure_out or f'{a.out}_examples.png')), 'models': list(shown), 'photos': figure(shown, a.figure_out or f'{a.out}_examples.png')}
    rep['seconds']['total'] = time.time() - t0
    if a.add:
        rep = json.loads(json.dumps(rep))  # the keys as the file has them
        if not same(before['results'][reference], rep['results'][reference]): print(f'note: {reference} scores differently from the run before (by more than 1e-4)', flush=True)
        added = [n for n in specs if n != reference]
        before['results'][reference] = rep['results'][reference] | before['results'][reference]  # the reference gains the sets added since it was scored
        for k in ('models', 'results', 'bootstrap', 'targets'):  # a row scored again keeps its place
            before[k] = {n: rep[k][n] if n in added and n in rep[k] else v for n, v in before[k].items()} | {n: rep[k][n] for n in added if n in rep[k] and n not in before[k]}
        before['seconds'] |= {n: rep['seconds'][n] for n in added}
        before['added'] = before.get('added', []) + [{'date': rep['date'], 'models': added, 'minutes': round(rep['seconds']['total'] / 60, 1), 'hardware': rep['hardware']}]
        rep = before
    out = Path(a.out)
    out.with_suffix('.json').write_text(json.dumps(rep, indent=1))
    md = out.with_suffix('.md')
    old = md.read_text() if md.exists() else ''
    reading = old[old.index('\n## Reading'):] if '\n## Reading' in old else ''  # written by hand: kept across reruns
    md.write_text(markdown(rep) + reading)
    print(md.read_text())

def table(head, rows):
    "A markdown table."
    return '\n'.join([f"| {' | '.join(head)} |", '|' + '---|' * len(head)] + [f"| {' | '.join(map(str, r))} |" for r in rows])

def markdown(rep):
    R, D, B = rep['results'], rep['data'], rep['bootstrap']
    first = next(iter(R))
    iv = lambda n, k: (f'{B[n][k][0]:+.4f} to {B[n][k][1]:+.4f}' if k in B.get(n, {}) else '(reference)' if n == first else '-')
    col = lambda rows, k: [r + [iv(r[0], k)] for r in rows] if B else rows
    versus = [f'minus {first}, 95% interval'] if B else []
    clean = col([[n, f4(r['clean']['pooled_iou']), f4(r['clean']['mean_iou'])] for n, r in R.items()], 'clean')
    hands = col([[n, f4(r['hands']['pooled_iou']), f"{r['hands']['hand_as_face']:.2%}", f"{r['clean']['pooled_iou'] - r['hands']['pooled_iou']:+.4f}"] for n, r in R.items()], 'hands')
    real = [[n, f4(r['real_occluders']['pooled_iou']), f4(r['real_occluders']['pooled_iou_without_28_251']), f"{r['real_occluders']['hull_gap_called_face']:.2%}"] for n, r in R.items()]
    skin = [[n, *map(f4, r['skin']['quartile_iou']), f4(r['skin']['darkest_tenth_iou']), f"{r['skin']['darkest_quartile_gap']:+.4f}"]
            + ([iv(n, f'quartile{k}') for k in range(4)] if B else []) for n, r in R.items()]
    nf = lambda v: [f"{v['photos_with_face_px']:.1%}", f"{v['pixels_called_face']:.3%}"] if v else ['-', '-']
    noface = [[n, *nf(r['no_face']['all']), *nf(r['no_face']['animals'])] for n, r in R.items()]
    listed = '\n'.join(f"- {n}: " + (', '.join(f'{f} {100 * s:.2g}%' for f, s in r['no_face']['with_face_px']) or 'none') for n, r in R.items())
    scored_dark = {n: r['dark_no_face'] for n, r in R.items() if 'dark_no_face' in r}
    dark = [[n, *nf(v), v['animal_photos_with_face_px']] for n, v in scored_dark.items()]
    listed_dark = '\n'.join(f"- {n}: " + (', '.join(f'{f} {100 * s:.2g}%' for f, s in v['with_face_px']) or 'none') for n, v in scored_dark.items())
    yaws = list(next(iter(R.values()))['multipose']['recall_by_yaw'])
    pose = [[n, f4(m['recall_yaw_0_30']), f4(m['recall_yaw_45_90']), *(f4(m['recall_by_yaw'][y]) for y in yaws), f"{m['background_called_face']:.3%}",
             f"{len(m['empty'])}: {', '.join(m['empty'])}" if m['empty'] else '0', f4(m['held_out']['recall_yaw_45_90']), len(m['held_out']['empty'])]
            for n, m in ((n, r['multipose']) for n, r in R.items())]
    generated = [[n, f4(r['covered']['pooled_iou']), r['covered']['faces_lost'], f4(r['dim']['pooled_iou']), r['dim']['faces_lost']] for n, r in R.items()]
    pairs = [[n, f4(r['pairs']['face_iou']), r['pairs']['faces_lost'], r['pairs']['animals_with_face_px'], f"{r['pairs']['animal_pixels_called_face']:.3%}"] for n, r in R.items()]
    names = list(next(iter(rep['targets'].values())))
    tgt = [[n, f"{sum(ok for _, _, ok in rep['targets'][n].values())}/{len(names)}",
            *(f"{'-' if v is None else format(v, f)}{'' if ok else ' MISSED'}" for v, f, ok in (rep['targets'][n][t] for t in names))] for n in R]
    models = ', '.join(f"{n} = `{s.replace(f'{REPO}/', '')}`" for n, s in rep['models'].items())
    limit = f" **Cut to {rep['limit']} items per set (--limit): a smoke test, not a measurement.**" if rep['limit'] else ''
    fig = f"\n\n`{Path(rep['figure']['file']).name}`: the masks of {', '.join(rep['figure']['models'])} on the repository's example photos ({', '.join(rep['figure']['photos'])})." if 'figure' in rep else ''
    edges = ', '.join(f'{e:.1f}' for e in D['lightness_edges'])
    limit += ' `--add` adds rows or scores a row again in place:' * bool(rep.get('added')) + ''.join(f" Rows {', '.join(x['models'])} scored {x['date']} ({x['minutes']} min on {x['hardware']})." for x in rep.get('added', []))
    return f"""# Generalisation: photos outside the training distribution

Measured {rep['date']} by `benchmarks/generalisation.py` in {rep['seconds']['total'] / 60:.1f} min on {rep['hardware']}.{limit} Models: {models}, each through
`FaceMasker.predict` (batches of 8). Data (all research-only, in ../shared/data): the {D['faces']} validation faces of CelebAMask-HQ-mini
(`configs/split_celebamask_mini.json` 'val', 512x512), clean and with one held-out hand each (`split_bank(hand_bank(hands), 0.25, 0)`,
paste seed 0); {len(D['real_occluder_ids'])} validation photos with a real hand or object on the face (`configs/val_real_occluders.json`); {D['noface']} photos without
a person's face ({D['noface_animals']} of them animals; `configs/split_noface.json` 'val', {D['noface_size']}); {D['multipose']} studio photos of turned heads
(FASSEG multipose, {D['multipose_size']}).{fig}

## Targets

One row a model; MISSED marks a value outside the issue's target, the column headers name the targets.

{table(['model', 'met', *names], tgt)}

## Clean faces

{table(['model', 'IoU pooled', 'IoU mean/img'] + versus, clean)}

## Held-out hands pasted on the same faces

{table(['model', 'IoU pooled', 'hand px called face', 'clean - hands'] + versus, hands)}

## Real hands and objects on the face

IoU pooled over the {len(D['real_occluder_ids'])} validation photos with a real occluder, and without ids {' and '.join(map(str, LABELLED_FACE))}, where the
CelebAMask-HQ mask labels the occluder (a hand on the cheek, a lace veil) face, so a model that leaves it out loses IoU there.
`hull_gap_called_face`: the share of "gap" pixels (the filled convex hull of the ground-truth face minus the face; {R[first]['real_occluders']['hull_gap_px']:,} px in all)
called face. The gap holds the occluder where it cuts into the face, but also background in concave outlines (between the chin
and the neck, beside the ears), and in ids 28 and 251 it does not hold the occluder at all: a proxy for occluder pixels called face, not a measure of it.

{table(['model', 'IoU pooled', 'without 28, 251', 'hull_gap_called_face'], real)}

## Skin lightness

Each clean face's lightness is the median L* of its ground-truth face pixels (`face_lightness`); quartile edges L* {edges}
(Q0 darkest). "Darkest tenth": the darkest tenth of the faces ({D['darkest_tenth_faces']}). `darkest_quartile_gap` = clean IoU - Q0 IoU.

{table(['model', 'Q0 IoU', 'Q1 IoU', 'Q2 IoU', 'Q3 IoU', 'darkest tenth IoU', 'darkest_quartile_gap'] + ([f'Q{k} minus {first}, 95% interval' for k in range(4)] if B else []), skin)}

## Photos without a face

Share of photos with any face pixel, and share of all pixels called face.

{table(['model', 'photos with face px', 'pixels called face', 'animals: photos with face px', 'animals: pixels called face'], noface)}

Photos with face pixels (share of the photo), worst first:

{listed}

### The same photos in low light

Each no-face photo above darkened and noised as training darkens faces (`relight(..., 'low')`, generator seed 1): a dark
room or a night photo without a person, the negatives' counterpart of the dim faces below. The shipped network's training
relit faces, never its no-face photos (`SkinToneLight` came before `NoFace` swapped the photo in). Scored for the rows named here only (added 2026-12-07; the other rows predate the set).

{table(['model', 'photos with face px', 'pixels called face', 'animal photos with face px'], dark)}

Photos with face pixels (share of the photo), worst first:

{listed_dark}

## Face coverings and dim light, generated on the validation faces

The {D['faces']} clean faces again, each with a generated face covering (`FaceCovering(p=1.0)`: surgical, cloth or N95-like; the
covering is not face in the ground truth), and each with its skin darkened (`shift_skin_tone`, L* x 0.35-0.7) in low light
(`relight(..., 'low')`); seed 0. No labelled photo of a real face mask or a real dim room exists here: these are the
training augmentations applied to faces no model trained on. A face is lost where its IoU is under 0.5.

{table(['model', 'covered: IoU pooled', 'covered: faces lost', 'darker, low light: IoU pooled', 'darker, low light: faces lost'], generated)}

## A person beside an animal

Each of the {R[first]['pairs']['n']} animal photos above with one of the validation faces beside it (the first {R[first]['pairs']['n']}, resized to the animal photo's height;
`side_by_side`): the face must keep its mask and the animal get none. IoU pooled over the face halves; a face is lost where its IoU is under 0.5.

{table(['model', 'face IoU', 'faces lost', 'animals with face px', 'animal pixels called face'], pairs)}

## Turned heads (multipose)

Recall of the eyes, nose and mouth pixels (labels 3-5, pooled; the labels' skin and hair do not follow this project's face
definition, so they are not scored), by the absolute yaw in degrees (from the file names); background (label 0) pixels called face; photos whose mask is empty.
A recipe that trains on turned heads (`extra_data`, `facemask.data.prepare_multipose`) sees the photos of the other four people, so the last two
columns, and the targets, count only the people that no recipe trains on.

{table(['model', 'recall, yaw 0 to ±30', 'recall, yaw ±45 to ±90', *(f'yaw ±{y}' if y else 'yaw 0' for y in yaws), 'background called face', 'empty masks',
        f"held-out people ({', '.join(MULTIPOSE_VAL_PEOPLE)}): recall ±45 to ±90", 'held-out people: empty masks'], pose)}
""" + (f"\nIntervals: paired bootstrap over the faces (2,000 resamples) of each model's pooled IoU minus {first}'s.\n" if B else '')

if __name__ == '__main__':
    main()
