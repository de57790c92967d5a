"""Where the time goes inside the network: ONNX Runtime's own profiler over the shipped model's ONNX files (float32,
exported in the run, and the shipped CPU default: its network read out at stride 2, int8), one 320x320 input (a 512x512 photo as `FaceMasker` feeds it), with the
session settings of `OnnxSegmenter`. Kernel time is summed by part of the network (the encoder; each decoder stage by
the resolution of its output; the presence head) and by operator. Writes <out>.json and <out>.md
(default benchmarks/reports/network_profile).

    python benchmarks/network_profile.py
    python benchmarks/network_profile.py --models fast_stride2_int8=runs/fast2_frozen_int8_pct.onnx --runs 100
"""
import argparse, collections, json, tempfile, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WARMUP = 10  # runs before the timed ones; ONNX Runtime profiles them too

def session(path, threads, profile_prefix=None):
    "An ONNX Runtime CPU session set up as `OnnxSegmenter` sets it up (threads, no spinning), profiling if given a prefix."
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
    if profile_prefix: opts.enable_profiling, opts.profile_file_prefix = True, profile_prefix
    return ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])

def resolution(shapes):
    "Side of the square feature map a node writes (NCHW or NHWC), or None for non-image outputs."
    for dtype_shape in shapes:
        shape = next(iter(dtype_shape.values()))
        if len(shape) == 4 and shape[2] == shape[3] and shape[2] > 1: return shape[2]
        if len(shape) == 4 and shape[1] == shape[2] and shape[1] > 1: return shape[1]
    return None

PRESENCE_OPS = ('Sigmoid', 'AveragePool', 'ReduceMax', 'ReduceMean', 'ReduceSum', 'Clip', 'Gemm', 'Gather')  # the decoder has none of them

def part(event, decoding, size):
    "The part of the network a kernel event belongs to: the encoder runs before the first upsampling (ONNX Runtime runs nodes in order; optimised nodes get new names), the presence head is the only part with `PRESENCE_OPS` or stride-32 maps after it."
    if not decoding: return 'encoder'
    side = resolution(event['args'].get('output_type_shape', []))
    if event['args']['op_name'] in PRESENCE_OPS or side == size // 32: return 'presence head'
    return f'decoder, stride {size // side} ({side}x{side})' if side else 'decoder, shapes and glue'

def profile(path, size, runs, threads):
    "Wall ms per run, and kernel ms per run of each part and each operator, summed over `runs` runs after `WARMUP`."
    with tempfile.TemporaryDirectory() as work:
        s = session(path, threads, f'{work}/profile')
        x = {'image': np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)}
        for _ in range(WARMUP): s.run(None, x)
        t = time.perf_counter()
        for _ in range(runs): s.run(None, x)
        wall = (time.perf_counter() - t) / runs
        events = json.load(open(s.end_profiling()))
    by_part, by_op, decoding, calls = collections.Counter(), collections.Counter(), False, 0
    for e in events:
        if e.get('cat') == 'Session' and e['name'] == 'model_run': decoding, calls = False, calls + 1
        if e.get('cat') != 'Node' or not e['name'].endswith('_kernel_time'): continue
        decoding = decoding or e['args']['op_name'] in ('Resize', 'Upsample')
        if calls > WARMUP:
            by_part[part(e, decoding, size)] += e['dur']; by_op[e['args']['op_name']] += e['dur']
    ms = lambda c: {k: v / runs / 1000 for k, v in c.most_common()}
    return {'wall_ms': wall * 1000, 'kernel_ms': sum(by_part.values()) / runs / 1000, 'by_part': ms(by_part), 'by_operator': ms(by_op)}

def markdown(r):
    names = list(r['models'])
    lines = ['# Inside the network: where the time goes', '',
             f"{r['date']}; {r['cpu']}, {r['threads']} threads, ONNX Runtime {r['onnxruntime']}; one {r['size']}x{r['size']} input "
             f"(a 512x512 photo as `FaceMasker` feeds it), {r['runs']} profiled runs after {WARMUP} warm-up runs, session settings of "
             f"`OnnxSegmenter`. Kernel times from ONNX Runtime's profiler, per run. Models: "
             + ', '.join(f'{n} = `{m["path"]}`' for n, m in r['models'].items()) + '. Written by `benchmarks/network_profile.py`.', '',
             '## By part of the network', '', '| part | ' + ' | '.join(f'{n} ms | {n} share' for n in names) + ' |',
             '|---|' + '---|---|' * len(names)]
    parts = list(dict.fromkeys(k for n in names for k in r['models'][n]['by_part']))
    order = lambda k: (k != 'encoder', k.startswith('presence'), -int(k.split('stride ')[1].split(' ')[0]) if 'stride' in k else 0, k)
    for k in sorted(parts, key=order):
        cells = []
        for n in names:
            m = r['models'][n]; v = m['by_part'].get(k, 0.0)
            cells.append(f'{v:.2f} | {100 * v / m["kernel_ms"]:.0f}%')
        lines.append(f'| {k} | ' + ' | '.join(cells) + ' |')
    lines.append('| all kernels | ' + ' | '.join(f'{r["models"][n]["kernel_ms"]:.2f} | 100%' for n in names) + ' |')
    lines.append('| wall time per run (profiling on) | ' + ' | '.join(f'{r["models"][n]["wall_ms"]:.2f} | ' for n in names) + ' |')
    lines += ['', '## By operator (top 8)', '', '| model | ' + ' | '.join(['operator: ms'] * 8) + ' |', '|---|' + '---|' * 8]
    for n in names:
        top = list(r['models'][n]['by_operator'].items())[:8]
        lines.append(f'| {n} | ' + ' | '.join(f'{k}: {v:.2f}' for k, v in top) + ' |')
    return '\n'.join(lines) + '\n'

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--models', nargs='*', default=[], metavar='NAME=PATH', help='more ONNX files to profile beside the shipped ones')
    p.add_argument('--runs', type=int, default=50); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/network_profile'))
    a = p.parse_args()
    import onnxruntime
    from facemask.core import atomic_path
    from facemask.inference import default_weights, export_onnx
    from facemask.model import load_model
    extra = dict(m.split('=', 1) for m in a.models)
    for n, path in extra.items():
        if not Path(path).is_file(): p.error(f'--models {n}={path}: no such file')
    with tempfile.TemporaryDirectory() as work:
        checkpoint = load_model(default_weights(accurate=True))
        size = checkpoint.config.input_size
        paths = {'float32': export_onnx(checkpoint, Path(work)/'fp32.onnx'), 'cpu_default_int8': default_weights(accurate=False), **extra}
        models = {}
        for n, path in paths.items():
            models[n] = {'path': 'facemask export-onnx of the shipped checkpoint (in the run)' if n == 'float32' else str(Path(path).relative_to(REPO) if Path(path).is_relative_to(REPO) else path),
                         **profile(path, size, a.runs, a.threads)}
            print(n, f"{models[n]['kernel_ms']:.2f} ms of kernels", {k: round(v, 2) for k, v in models[n]['by_part'].items()}, flush=True)
    r = {'date': time.strftime('%Y-%m-%d'), 'cpu': next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), 'unknown'),
         'threads': a.threads, 'onnxruntime': onnxruntime.__version__, 'size': size, 'runs': a.runs, 'models': models}
    out = Path(a.out)
    old = out.with_suffix('.md').read_text() if out.with_suffix('.md').exists() else ''
    reading = old[old.index('## Reading'):] if '## Reading' in old else ''
    for suffix, text in (('.json', json.dumps(r, indent=1)), ('.md', markdown(r) + ('\n' + reading if reading else ''))):
        with atomic_path(out.with_suffix(suffix)) as tmp: tmp.write_text(text)
    print('wrote', out.with_suffix('.md'))

if __name__ == '__main__': main()
