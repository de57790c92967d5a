import json
from dataclasses import asdict
from conftest import REPO
from facemask.train import TrainConfig

def test_default_config_file_matches_the_dataclass_defaults():
    "The shipped model's config file and TrainConfig() describe the same run, paths aside (the notebook's Colab cell relies on it)."
    cfg = {k: v for k, v in json.loads((REPO/'configs'/'default.json').read_text()).items() if k not in ('data', 'hands', 'out')}
    defaults = asdict(TrainConfig())
    assert {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()} == {k: defaults[k] for k in cfg}

def test_unknown_object_textures_are_refused_before_any_file_is_read():
    import pytest
    from facemask.train import occlusion_transform
    with pytest.raises(ValueError, match="object_textures must be 'face_free' or 'anywhere', got 'faces'"):
        occlusion_transform(TrainConfig(data='no/such/data', hands='no/such/hands', object_textures='faces'), [])
