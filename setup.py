"Packaging from settings.ini (nbdev 2 layout), without pkg_resources."
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
lic = licenses[cfg['license']]
requirements = cfg.get('requirements', '').split()
extras = {k[:-len('_requirements')]: v.split() for k, v in cfg.items() if k.endswith('_requirements') and k != 'requirements'}  # dev, demo

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'], url=cfg['git_url'], license=lic[0],
    classifiers=['Development Status :: 3 - Alpha', 'Intended Audience :: Developers', 'Programming Language :: Python :: 3',
                 'License :: ' + lic[1], 'Topic :: Scientific/Engineering :: Image Recognition'],
    packages=setuptools.find_packages(include=['facemask', 'facemask.*']),
    include_package_data=True, package_data={'facemask': ['weights/*.pt', 'weights/*.onnx']},
    install_requires=requirements, extras_require=extras, python_requires='>=' + cfg['min_python'],
    keywords=cfg['keywords'], zip_safe=False,
    entry_points={'console_scripts': cfg['console_scripts'].split(), 'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
