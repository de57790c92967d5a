"""int8 exports with other activation ranges than `facemask export-onnx --int8` (MinMax): ONNX Runtime's Percentile
(99.999%) or Entropy calibration, same QDQ per-channel quantisation, same 32 training faces, the presence head left float.
A measurement for `benchmarks/reports/generalisation.md` ("A fast model"), before the library offers the choice:

    facemask prepare ../shared/data/CelebAMask-HQ-mini -o data/bench-prepared
    python benchmarks/int8_ranges.py runs/generalisation/fast_stride4_distill_faces/presence.pt runs/fast_faces_int8_pct.onnx
    python benchmarks/generalisation.py --add fast_stride4_distill_faces_int8_percentile=runs/fast_faces_int8_pct.onnx
"""
import argparse, functools, json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('weights'); p.add_argument('output'); p.add_argument('--method', default='Percentile', choices=['Percentile', 'Entropy', 'MinMax'])
    p.add_argument('--data', default=str(REPO/'data/bench-prepared'), help='prepared faces; the first 32 training ones calibrate')
    a = p.parse_args()
    import onnxruntime.quantization as q
    from facemask.core import read_image
    from facemask.inference import export_onnx
    from facemask.model import load_model
    q.quantize_static = functools.partial(q.quantize_static, calibrate_method=getattr(q.CalibrationMethod, a.method))  # what _quantize calls
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['train'][:32]
    print(export_onnx(load_model(a.weights), a.output, calibration=[read_image(Path(a.data)/'images'/f'{i}.jpg') for i in ids]))

if __name__ == '__main__': main()
