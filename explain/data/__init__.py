"""emolens data: every dataset source behind one entry point that returns one `Dataset` type.

    from emolens.explain.data import load_dataset

    train = load_dataset("fer2013", "train", "emo3", limit=1000)   # FER2013 npz files
    test = load_dataset("fer2013.csv", "publictest", "fer7")       # the original csv
    faces = load_dataset("photos/", None, "emo3", detect_faces=True)  # <class>/<images>
    demo = load_dataset("synthetic", "train", "emo3")               # drawn cartoon faces

One file per source: `npz`, `csv`, `folders`, `synthetic`; `download` gets FER2013,
`ferplus` turns its crowd votes into soft labels, `labels` holds the class sets,
`splits` the validation split and seeded subsets, `paths` the data folder.
"""

from emolens.explain.data.csv import load_fer2013_csv, read_fer2013_csv
from emolens.explain.data.dataset import Dataset
from emolens.explain.data.download import convert_fer2013_csv, download_fer2013
from emolens.explain.data.ferplus import FERPLUS_COLUMNS, ferplus_distribution
from emolens.explain.data.folders import load_image_folder
from emolens.explain.data.labels import CLASS_SETS, EMO3, FER7, class_index, class_names
from emolens.explain.data.load import load_dataset
from emolens.explain.data.npz import load_fer2013
from emolens.explain.data.paths import data_dir
from emolens.explain.data.splits import split_validation, subset
from emolens.explain.data.synthetic import SyntheticFaces, demo_faces, load_synthetic

__all__ = [
    "CLASS_SETS",
    "EMO3",
    "FER7",
    "FERPLUS_COLUMNS",
    "Dataset",
    "SyntheticFaces",
    "class_index",
    "class_names",
    "convert_fer2013_csv",
    "data_dir",
    "demo_faces",
    "download_fer2013",
    "ferplus_distribution",
    "load_dataset",
    "load_fer2013",
    "load_fer2013_csv",
    "load_image_folder",
    "load_synthetic",
    "read_fer2013_csv",
    "split_validation",
    "subset",
]
