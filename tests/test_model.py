import shutil, warnings
import numpy as np
import pytest
import torch
from conftest import REPO
from facemask.model import BACKBONES, FaceSegmenter, ModelConfig, encoder_stages, fuse_batchnorm, load_model, save_model

@pytest.mark.parametrize('backbone', BACKBONES)
def test_logits_at_input_size_for_odd_sizes(backbone):
    m = FaceSegmenter(ModelConfig(backbone=backbone, decoder_channels=(16, 16, 8, 8, 8)), pretrained=False).eval()
    with torch.no_grad():
        for hw in [(33, 47), (64, 64), (17, 100)]:
            assert m(torch.rand(1, 3, *hw)).shape == (1, 1, *hw)

def test_shape_errors_say_what_to_use():
    m = FaceSegmenter(pretrained=False)
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'): m(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'): m.predict(np.zeros((5, 5, 4), np.uint8))

def test_checkpoint_round_trip_carries_preprocessing(tmp_path):
    cfg = ModelConfig(input_size=96, threshold=0.3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), face_parts=('skin',))
    m = FaceSegmenter(cfg, pretrained=False).eval()
    with torch.no_grad():
        for p in m.parameters(): p.add_(torch.randn_like(p) * 0.01)
    save_model(m, tmp_path/'m.pt', note='x')
    m2 = load_model(tmp_path/'m.pt')
    assert m2.config == cfg
    x = torch.rand(2, 3, 64, 80)
    with torch.no_grad(): assert torch.allclose(m(x), m2(x), atol=1e-5)
    image = (np.random.default_rng(0).random((50, 70, 3)) * 255).astype(np.uint8)
    assert np.array_equal(m.predict(image), m2.predict(image))
    assert [p.name for p in tmp_path.iterdir()] == ['m.pt']

def test_imagenet_weights_offline_and_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.warns(UserWarning, match='random init'): encoder_stages('resnet18', pretrained=True)
    shared = REPO.parent/'shared'/'pretrained'/'mobilenet_v2-b0353104.pth'
    if not shared.exists(): pytest.skip('../shared/pretrained is not beside the checkout')
    (tmp_path/'hub'/'checkpoints').mkdir(parents=True, exist_ok=True); shutil.copy(shared, tmp_path/'hub'/'checkpoints')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        stages = encoder_stages('mobilenet_v2', pretrained=True)
    sd = torch.load(shared, map_location='cpu')
    assert torch.equal(stages[0][0][0].weight, sd['features.0.0.weight'])

def test_shipped_weights_are_small_and_load():
    from facemask.inference import default_weights
    path = default_weights()
    assert path.stat().st_size < 15e6
    m = load_model(path)
    assert m.config.backbone in BACKBONES and m.config.input_size >= 128

def test_folded_batchnorm_keeps_the_shipped_masks(tmp_path):
    from facemask.inference import default_weights
    m = load_model(default_weights())
    f = fuse_batchnorm(m)
    assert not any(isinstance(b, torch.nn.BatchNorm2d) for b in f.modules())
    image = (np.random.default_rng(1).random((240, 200, 3)) * 255).astype(np.uint8)
    image[40:200, 50:150] = (200, 150, 120)  # a skin-coloured block, so the mask is not all one value
    pm, pf = m.predict_proba(image), f.predict_proba(image)
    assert np.abs(pm - pf).max() < 1e-4
    with pytest.raises(ValueError, match='fuse_batchnorm'): save_model(f, tmp_path/'f.pt')
    assert not (tmp_path/'f.pt').exists()
