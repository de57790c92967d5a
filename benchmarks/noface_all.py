"""Photos without a face: every one of ../shared/data/no-face (457), not only the 114 of the validation split.
The validation split alone lets one photo decide whether a model paints 0.9% or 1.8% of them. The other 343 photos
were training negatives of the shipped network and of its presence head, so they do not say how a model generalises;
they do say how often a variant of the same network (an int8 export, a cheaper readout) undoes what training taught
it, which the validation split is too small to show. Each model through `FaceMasker.predict` with its defaults.
Writes <out>.json and <out>.md (default benchmarks/reports/noface_all).

    python benchmarks/noface_all.py                     # the accurate model and the CPU default
    python benchmarks/noface_all.py accurate_int8=runs/accurate_int8.onnx 'fast=x.onnx;speck=4'

A spec is `path` or `path;key=value;...` (benchmarks/generalisation.py's): the pairs go to FaceMasker.from_pretrained.
A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, subprocess, sys, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'

def painted(masker, images):
    "Share of each photo's pixels called face, for the photos with any."
    out = {}
    for name, im in images.items():
        share = float((masker.predict(im) > 127).mean())
        if share > 0: out[name] = share
    return out

def summary(shares, images, names):
    "Photos with face pixels, share of all their pixels called face, animal photos with face pixels, among `names`."
    from facemask.hands import is_animal
    px = {n: images[n].shape[0] * images[n].shape[1] for n in names}
    hit = [n for n in names if n in shares]
    return {'photos': len(names), 'photos_painted': len(hit), 'pixels_painted': sum(shares[n] * px[n] for n in hit) / sum(px.values()),
            'animals': sum(map(is_animal, names)), 'animals_painted': sum(map(is_animal, hit))}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('models', nargs='*', help='name=spec (default: the accurate model and the CPU default)')
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--out', default=str(REPO/'benchmarks/reports/noface_all'))
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    from generalisation import parse_spec
    from facemask.core import read_image
    from facemask.hands import noface_split
    from facemask.inference import FaceMasker, default_weights
    specs = dict(m.split('=', 1) for m in a.models) or {'accurate': str(default_weights(accurate=True)), 'cpu_default': str(default_weights(accurate=False))}
    train, val = noface_split(a.noface)
    held_out = set(val)
    images = {n: read_image(Path(a.noface)/'images'/n) for n in sorted(train + val)}
    rows, t0 = {}, time.time()
    for name, spec in specs.items():
        path, kwargs = parse_spec(spec)
        shares = painted(FaceMasker.from_pretrained(path, device='cpu', **kwargs), images)
        rows[name] = {'spec': spec, 'all': summary(shares, images, list(images)), 'val': summary(shares, images, val), 'train': summary(shares, images, train),
                      'painted': [[n, shares[n], n in held_out] for n in sorted(shares, key=lambda n: -shares[n])]}
        print(name, {k: rows[name][k]['photos_painted'] for k in ('all', 'val', 'train')}, f'{time.time() - t0:.0f} s', flush=True)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'minutes': round((time.time() - t0) / 60, 1), 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def cpu_name():
    "This machine's CPU model as lscpu names it, and whether it has VNNI: without it ONNX Runtime's int8 sums of 8-bit weights saturate (MODEL_CARD.md)."
    info = dict(l.split(':', 1) for l in subprocess.run(['lscpu'], capture_output=True, text=True).stdout.splitlines() if ':' in l)
    flags = set(info.get('Flags', '').split())
    vnni = '' if not flags else ' (with VNNI)' if flags & {'avx512_vnni', 'avx_vnni'} else ' (no VNNI)'
    return info.get('Model name', 'unknown CPU').strip() + vnni

def write_report(out, rep, text):
    "Write `rep` to <out>.json and `text` to <out>.md atomically, keeping the .md's hand-written section from `## Reading` on; returns the .md's text."
    from facemask.core import atomic_path
    out = Path(out)
    with atomic_path(out.with_suffix('.json')) as tmp: tmp.write_text(json.dumps(rep, indent=1))
    md = out.with_suffix('.md')
    kept = md.read_text().split('## Reading', 1)[1] if md.exists() and '## Reading' in md.read_text() else None
    with atomic_path(md) as tmp: tmp.write_text(text + (f'\n## Reading{kept}' if kept else ''))
    return md.read_text()

def markdown(rep):
    cell = lambda s: f"{s['photos_painted']} of {s['photos']} ({s['photos_painted'] / s['photos']:.1%}), {s['pixels_painted']:.3%} of the pixels, {s['animals_painted']} of {s['animals']} animals"
    short = lambda n: n.split('_', 1)[1].rsplit('.', 1)[0]
    out = ['# Photos without a face: all 457\n',
           f"Measured {rep['date']} by `benchmarks/noface_all.py` in {rep['minutes']} min on {rep['hardware']}. Data (research-only): every photo of "
           "`../shared/data/no-face` (ImageNet sample photos, one per class, no person's face), split as `configs/split_noface.json`: 'val' was held out "
           "from training and from the presence head's fit; 'train' were training negatives of the shipped network and its head. "
           "Each model through `FaceMasker.predict` with its defaults (whole frame, close-ups, presence head). A photo counts when any pixel is called face.\n",
           'Models: ' + '; '.join(f"`{n}` = `{r['spec']}`" for n, r in rep['rows'].items()) + '.\n',
           '| model | all photos | validation split (held out) | training split (seen in training) |', '|---|---|---|---|']
    out += [f"| {n} | {cell(r['all'])} | {cell(r['val'])} | {cell(r['train'])} |" for n, r in rep['rows'].items()]
    out += ['\nPainted photos (share of the photo called face; * = validation split):\n']
    out += [f"- {n}: " + (', '.join(f"{'*' if v else ''}{short(p)} {s:.2%}" for p, s, v in r['painted']) or 'none') for n, r in rep['rows'].items()]
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
