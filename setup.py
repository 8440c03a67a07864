import os.path as osp

from setuptools import find_packages, setup


def read_requirements(path):
    with open(osp.join(osp.dirname(__file__), path)) as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


def read_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'pyskl', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='pyskl',
    version=read_version(),
    description='Skeleton-based action recognition (ST-GCN, ST-GCN++, AAGCN, CTR-GCN, MS-G3D, DG-STGCN) on mmengine',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    # the label maps of tools/data/label_map ship inside the package as pyskl/label_map/*.txt
    # (pyskl.utils.label_maps finds them there, or in the checkout)
    packages=find_packages(include=['pyskl', 'pyskl.*']) + ['pyskl.label_map'],
    package_dir={'pyskl.label_map': 'tools/data/label_map'},
    package_data={'pyskl.label_map': ['*.txt']},
    python_requires='>=3.10',
    install_requires=read_requirements('requirements.txt'),
    extras_require={
        # tests: decord too, so that the decoding tests compare both video back-ends, and onnx for the ONNX export
        # tests (tests/apis/test_export.py)
        'tests': (read_requirements('requirements/tests.txt') + read_requirements('requirements/video.txt') +
                  read_requirements('requirements/onnx.txt')),
        'extract': read_requirements('requirements/extract.txt'),
        'onnx': read_requirements('requirements/onnx.txt'),
        'tensorboard': read_requirements('requirements/tensorboard.txt'),
        'video': read_requirements('requirements/video.txt'),
    },
    zip_safe=False,
)
