"""Face-presence head recipes, compared by cross-validation over all no-face photos. The validation split holds 114
no-face photos, so one photo (the macaque) decides whether a model meets the target of at most 1% painted. Here every
recipe is fitted on the training faces and 4/5 of all 457 no-face photos and scored on the other fifth, five times, so
that every no-face photo is held out once; its cost to real faces is scored with the head fitted on the official
training split of no-face photos (the one a shipped head uses), on the validation faces (clean, held-out hands, turned
heads, face coverings, dim light, a face beside an animal) and on wide frames of 1-5 small faces.

Every score is `FaceMasker` (whole frame, tiles, close-ups, the head's decision on each view) run with the recipe's
head; the network's maps and presence features of each view are computed once and reused by every head, which only
changes decisions. Writes <out>.json and <out>.md (default benchmarks/reports/presence_cv).

    python benchmarks/presence_cv.py                          # the shipped checkpoint's network
    python benchmarks/presence_cv.py --weights runs/x.pt --limit 40

A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, dataclasses, hashlib, json, subprocess, sys, time, types
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'
FOLDS = 5
BUCKETS = ((60, 120), (120, 250), (250, 450), (450, 701))  # side of a face photo in a wide frame, px (real_world.py's)
RECIPES = {  # L2; weight of the no-face class against the face class; mirrored copies of every crop; jittered no-face crops; a second harder copy of each face; presence threshold
    'shipped_recipe': dict(l2=1e-3),
    'l2_1e-2': dict(l2=1e-2),
    'l2_1e-1': dict(l2=1e-1),
    'l2_1e-4': dict(l2=1e-4),
    'noface_weight_3': dict(l2=1e-3, noface_weight=3.0),
    'mirrored': dict(l2=1e-3, mirror=True),
    'jittered': dict(l2=1e-3, jitter=True),
    'mirrored_jittered_l2_1e-2': dict(l2=1e-2, mirror=True, jitter=True),
    'harder_2': dict(l2=1e-3, harder=2),
    'threshold_0.3': dict(l2=1e-3, threshold=0.3),
    'threshold_0.15': dict(l2=1e-3, threshold=0.15),
}

def key(image): return image.shape, hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()

class CachedMasker:
    "A `FaceMasker` whose views are run through the network once; each head given to `use` only changes the decisions."
    def __init__(self, model):
        from facemask.inference import FaceMasker
        from facemask.model import PresenceHead
        self.masker, self.cache, self.seen = FaceMasker(model, presence=True), {}, []
        outer = self
        class Recorder(torch.nn.Module):  # the pooled features of every view the network sees
            def forward(self, deepest, face):
                outer.seen.append(PresenceHead.pool(deepest, face).float().cpu().numpy())
                return torch.zeros(len(deepest), device=deepest.device)
        self.head, model.presence = model.presence, Recorder()
        compute, masker = self.masker._proba, self.masker
        def proba(images):
            for im in images:  # one at a time: batches group images by size, so the recorded order is not the images' order
                if key(im) in self.cache: continue
                self.seen.clear()
                self.cache[key(im)] = (compute([im])[0][0], self.seen[0][0])
            probs, feats = zip(*(self.cache[key(im)] for im in images))
            return list(probs), list(self.score(np.stack(feats)))
        masker._proba = proba

    def score(self, feats):
        from facemask.train import presence_scores
        return np.ones(len(feats), np.float32) if self.head is None else presence_scores(self.head, feats)

    def use(self, head, threshold=0.5):
        "Decide with `head` (None: no head, every view a face) at `threshold`."
        self.head, config = head, self.masker.model.config
        self.masker.model.config = dataclasses.replace(config, presence_threshold=threshold)
    def predict(self, images): return [m for i in range(0, len(images), 8) for m in self.masker.predict(images[i:i + 8])]

def crops_features(model, crops):
    from facemask.train import presence_features
    return presence_features(model, crops) if len(crops) else np.zeros((0, 1))

def jittered(image, boxes, seed=0):
    "Each candidate region `boxes` of `image` again, 0.7x and 1.4x its side and shifted by up to a fifth of it."
    rng, out, (H, W) = np.random.default_rng(seed), [], image.shape[:2]
    for x0, y0, x1, y1 in boxes:
        for f in (0.7, 1.4):
            s = max(8, int(max(x1 - x0, y1 - y0) * f))
            cx, cy = (x0 + x1) / 2 + rng.uniform(-0.2, 0.2) * s, (y0 + y1) / 2 + rng.uniform(-0.2, 0.2) * s
            a, b = int(np.clip(cx - s / 2, 0, max(0, W - s))), int(np.clip(cy - s / 2, 0, max(0, H - s)))
            out.append(image[b:b + s, a:a + s])
    return out

def training_features(model, a, names, noface_images):
    "Presence features of the face crops (train faces and their harder copies, each with its mirror image; a second harder copy apart) and, per no-face photo, of its crops."
    from facemask.core import read_image
    from facemask.data import load_split
    from facemask.hands import hand_bank, split_bank
    from facemask.inference import face_regions
    from facemask.train import candidate_crops, harder_faces, random_squares
    pairs = [(Path(d), i) for d in (a.data_prepared, a.extra_prepared) for i in load_split(d)['train'][:a.limit]]
    faces = [read_image(d/'images'/f'{i}.jpg') for d, i in pairs]
    copies = harder_faces(faces, [cv2.imread(str(d/'masks'/f'{i}.png'), cv2.IMREAD_GRAYSCALE) for d, i in pairs], split_bank(hand_bank(a.hands), 0.25, 0)[0], copies=2)
    face_crops = candidate_crops(model, faces + copies[:len(faces)], largest=True)  # the first copies are those of copies=1
    t = {'faces': crops_features(model, face_crops), 'faces_mirrored': crops_features(model, [c[:, ::-1] for c in face_crops]),
         'faces_harder2': crops_features(model, candidate_crops(model, copies[len(faces):], largest=True)), 'noface': {}}
    for n, im in zip(names, noface_images):
        boxes = face_regions(model.predict_proba(im), input_size=model.config.input_size)  # candidate_crops' regions, found once for both kinds
        crops = [im[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes] + random_squares([im])  # the kinds fit_presence_on takes, one photo at a time
        jit = jittered(im, boxes)
        t['noface'][n] = {'plain': crops_features(model, crops), 'mirrored': crops_features(model, [c[:, ::-1] for c in crops]), 'jittered': crops_features(model, jit)}
    return t

def fitted(t, names, recipe):
    "The head of `recipe` fitted on `t`'s faces and the no-face photos `names`."
    faces = np.concatenate([t['faces']] + ([t['faces_mirrored']] if recipe.get('mirror') else []) + ([t['faces_harder2']] if recipe.get('harder') == 2 else []))
    parts = ['plain'] + (['mirrored'] if recipe.get('mirror') else []) + (['jittered'] if recipe.get('jitter') else [])
    others = np.concatenate([t['noface'][n][p] for n in names for p in parts if len(t['noface'][n][p])])
    from facemask.train import fit_presence_head
    return fit_presence_head(faces, others, recipe['l2'], recipe.get('noface_weight', 1.0))

def face_sets(a):
    "The validation face sets of generalisation.py (clean, hands, turned heads, coverings, dim, beside an animal) and wide frames of real_world.py."
    import generalisation as G, real_world as RW
    d = G.load(types.SimpleNamespace(data=a.data, hands=a.hands, noface=a.noface, multipose=a.multipose, limit=a.limit))
    rng = np.random.default_rng(0)
    frames = [RW.collage(rng, list(zip(*d['clean'][:2])), d['noface']) for _ in range(a.wide)]
    pose_truth = [np.where(np.isin(l, (3, 4, 5)), 255, 0).astype(np.uint8) for l in d['pose_labels']]
    sets = {'clean': d['clean'][:2], 'hands': d['hands'][:2], 'turned heads (eyes/nose/mouth)': (d['pose'], pose_truth),
            'face coverings': d['covered'], 'dim light': d['dim'], 'wide frames': tuple(zip(*(f[:2] for f in frames)))}
    pairs = ([im for im, _, _ in d['pairs']], [m for _, m, _ in d['pairs']], [w for _, _, w in d['pairs']])
    wide = [[(owner == k, side) for k, side in enumerate(sides)] for _, _, owner, sides in frames]  # per frame, each face: where its photo is, its side
    return sets, pairs, wide

def face_side(cm, sets, pairs, wide):
    "Per set: faces lost (under half of the truth called face) and recall of all truth pixels; for wide frames, each face on its own, with the side of its photo; animals painted beside a face."
    from facemask.evaluate import confusion
    r, preds = {}, {}
    for name, (images, truths) in sets.items():
        preds[name] = cm.predict(list(images))
        kept = [(p[t > 127] > 127).mean() for p, t in zip(preds[name], truths) if (t > 127).any()]
        c = np.array([confusion(p, t) for p, t in zip(preds[name], truths)], np.float64).sum(0)
        r[name] = {'n': len(kept), 'lost': int(sum(k < 0.5 for k in kept)), 'recall': float(c[0] / max(1, c[0] + c[2]))}
    kept = [(side, float((p[where & (t > 127)] > 127).mean())) for p, t, faces in zip(preds['wide frames'], sets['wide frames'][1], wide)
            for where, side in faces if (where & (t > 127)).any()]
    r['wide frames'] |= {'n': len(kept), 'lost': sum(k < 0.5 for _, k in kept), 'kept_by_side': kept}
    preds = cm.predict(pairs[0])
    r['beside an animal'] = {'n': len(preds), 'lost': sum(int((p[:, w:][m[:, w:] > 127] > 127).mean() < 0.5) for p, m, w in zip(preds, pairs[1], pairs[2])),
                             'animals_painted': sum(int((p[:, :w] > 127).any()) for p, w in zip(preds, pairs[2]))}
    return r

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--weights', help='checkpoint whose network the heads read (default: the shipped one)')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--hands', default=str(SHARED/'hands'))
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--multipose', default=str(SHARED/'multipose'))
    p.add_argument('--data-prepared', default=str(REPO/'data/bench-prepared')); p.add_argument('--extra-prepared', default=str(REPO/'data/multipose-prepared'))
    p.add_argument('--wide', type=int, default=60, help='wide frames of small faces'); p.add_argument('--limit', type=int, help='cut every set to N items')
    p.add_argument('--recipes', help='comma-separated names of RECIPES (default: all)'); p.add_argument('--seed', type=int, default=0, help='fold assignment')
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/presence_cv'))
    a = p.parse_args()
    torch.set_num_threads(2)
    from facemask.core import atomic_path, read_image
    from facemask.data import prepare, prepare_multipose
    from facemask.hands import is_animal, noface_split
    from facemask.inference import default_weights
    from facemask.model import fuse_batchnorm, load_model
    t0 = time.time()
    prepare(a.data, a.data_prepared); prepare_multipose(a.multipose, a.extra_prepared)
    weights = Path(a.weights or default_weights(accurate=True)).resolve()
    model = fuse_batchnorm(load_model(weights, 'cpu'))
    train_names, val_names = noface_split(a.noface)
    names = sorted(train_names + val_names)[:a.limit]
    noface = {n: read_image(Path(a.noface)/'images'/n) for n in names}
    t = training_features(model, a, names, [noface[n] for n in names])
    print(f'features: {time.time() - t0:.0f} s', flush=True)
    fold = dict(zip(names, np.random.default_rng(a.seed).permutation(len(names)) % FOLDS))
    sets, pairs, wide = face_sets(a)
    shipped_threshold = model.config.presence_threshold
    cm = CachedMasker(model)  # features come from model.run, which the recorder in place of its head leaves alone
    recipes = {k: RECIPES[k] for k in a.recipes.split(',')} if a.recipes else RECIPES
    animal = np.array([is_animal(n) for n in names])
    official_val = [n for n in names if n in set(val_names)]
    def official(): return [n for n, m in zip(official_val, cm.predict([noface[n] for n in official_val])) if m.any()]
    rows = {'shipped head': {'recipe': None, 'cv': None, 'official_val_painted': official(), 'faces': face_side(cm, sets, pairs, wide)}}
    shipped_head = cm.head
    cm.use(None)
    rows['no head'] = {'recipe': None, 'cv': None, 'official_val_painted': official(), 'faces': face_side(cm, sets, pairs, wide)}
    cm.use(shipped_head, shipped_threshold)
    for name, recipe in recipes.items():
        painted = {}
        for k in range(FOLDS):
            held = [n for n in names if fold[n] == k]
            cm.use(fitted(t, [n for n in names if fold[n] != k], recipe), recipe.get('threshold', 0.5))
            painted |= {n: float((m > 127).mean()) for n, m in zip(held, cm.predict([noface[n] for n in held]))}
        cm.use(fitted(t, [n for n in names if n in set(train_names)], recipe), recipe.get('threshold', 0.5))
        share = np.array([painted[n] for n in names])
        px = np.array([noface[n].shape[0] * noface[n].shape[1] for n in names])
        rows[name] = {'recipe': recipe, 'cv': {'photos': len(names), 'photos_painted': float((share > 0).mean()), 'pixels_painted': float((share * px).sum() / px.sum()),
                                               'animals': int(animal.sum()), 'animals_painted': int((share[animal] > 0).sum()),
                                               'painted': [[n, painted[n]] for n in sorted(painted, key=lambda n: -painted[n]) if painted[n] > 0]},
                      'official_val_painted': official(), 'faces': face_side(cm, sets, pairs, wide)}
        print(name, rows[name]['cv']['photos_painted'], rows[name]['official_val_painted'], {k: v['lost'] for k, v in rows[name]['faces'].items()}, f'{time.time() - t0:.0f} s', flush=True)
    cpu = next((l.split(':', 1)[1].strip() for l in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines() if l.startswith('Model name')), 'unknown CPU')
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu}, 2 CPU threads, PyTorch {torch.__version__}', 'weights': str(weights.relative_to(REPO) if weights.is_relative_to(REPO) else weights), 'limit': a.limit,
           'folds': FOLDS, 'seed': a.seed, 'minutes': round((time.time() - t0) / 60, 1), 'face_photos': len(t['faces']), 'rows': rows}
    out = Path(a.out)
    with atomic_path(out.with_suffix('.json')) as tmp: tmp.write_text(json.dumps(rep, indent=1))
    md = out.with_suffix('.md')
    kept = md.read_text().split('## Reading', 1)[1] if md.exists() and '## Reading' in md.read_text() else None
    with atomic_path(md) as tmp: tmp.write_text(markdown(rep) + (f'\n## Reading{kept}' if kept else ''))
    print(f'wrote {md} in {rep["minutes"]} min')

def markdown(rep):
    rows = rep['rows']
    face_sets = list(next(iter(rows.values()))['faces'])
    out = [f"# Face-presence head: recipes compared by cross-validation over all no-face photos\n",
           f"Measured {rep['date']} by `benchmarks/presence_cv.py` in {rep['minutes']} min on {rep['hardware']}; the network of `{rep['weights']}` "
           f"(BatchNorm folded), PyTorch float32, `FaceMasker` with each recipe's head. Data (research-only, ../shared/data): "
           f"{rep['face_photos']} face crops to fit on (CelebAMask-HQ-mini and multipose 'train', and one harder copy of each: covering, tone and light, or a training hand); "
           f"the no-face photos of `../shared/data/no-face`, {FOLDS} folds (seed {rep['seed']}): each recipe fitted on four and scored on the fifth, every photo held out once.\n",
           'Recipes (`facemask.train.fit_presence_head`; `shipped_recipe` is how `facemask fit-presence` fitted the shipped head): '
           + '; '.join(f"`{n}` {', '.join(f'{k} {v}' for k, v in r['recipe'].items())}" for n, r in rows.items() if r['recipe']) + '.\n',
           "## No-face photos, every one held out once\n",
           '| recipe | photos with face px | pixels called face | animal photos with face px | painted (share of the photo) | official validation split: painted, head fitted on its train split |',
           '|---|---|---|---|---|---|']
    for name, r in rows.items():
        cv = r['cv']
        if cv is None:
            out.append(f"| {name} ({'as shipped: fitted on the official train split, not refitted per fold' if name == 'shipped head' else 'every view a face'}) | - | - | - | - | {', '.join(n.split('_', 1)[1].rsplit('.', 1)[0] for n in r['official_val_painted']) or 'none'} |")
            continue
        out.append(f"| {name} | {cv['photos_painted']:.1%} of {cv['photos']} | {cv['pixels_painted']:.3%} | {cv['animals_painted']} of {cv['animals']} | "
                   f"{', '.join(f'{n.split(chr(95), 1)[1].rsplit(chr(46), 1)[0]} {s:.1%}' for n, s in cv['painted']) or '-'} | {', '.join(n.split('_', 1)[1].rsplit('.', 1)[0] for n in r['official_val_painted']) or 'none'} |")
    out += ['\n## Real faces: the head fitted on the official train split\n',
            'Faces lost: under half of the truth (for turned heads: eyes, nose and mouth) called face; for wide frames, each face of the frame. Recall: of all truth pixels.\n',
            '| recipe | ' + ' | '.join(f'{s}: lost, recall' for s in face_sets) + ' | animals painted beside a face |', '|---|' + '---|' * (len(face_sets) + 1)]
    for name, r in rows.items():
        f = r['faces']
        out.append(f'| {name} | ' + ' | '.join(f"{f[s]['lost']} of {f[s]['n']}, {f[s]['recall']:.4f}" if 'recall' in f[s] else f"{f[s]['lost']} of {f[s]['n']}" for s in face_sets)
                   + f" | {f['beside an animal']['animals_painted']} |")
    out += ['\n## Wide frames: faces lost by the side of their photo\n',
            '1280x720 frames of 1-5 validation face photos at a log-uniform side of 60-700 px on a no-face validation photo or a generated texture (`real_world.collage`, seed 0).\n',
            '| recipe | ' + ' | '.join(f'{lo}-{hi - 1} px' for lo, hi in BUCKETS) + ' |', '|---|' + '---|' * len(BUCKETS)]
    for name, r in rows.items():
        kept = r['faces']['wide frames']['kept_by_side']
        cell = lambda lo, hi: [k for s, k in kept if lo <= s < hi]
        out.append(f'| {name} | ' + ' | '.join(f"{sum(k < 0.5 for k in cell(lo, hi))} of {len(cell(lo, hi))}" for lo, hi in BUCKETS) + ' |')
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
