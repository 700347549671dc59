"""emolens data: dataset loaders, class sets, synthetic faces, FER2013 download, FERPlus votes."""

from emolens.explain.data.folders import (
    Dataset,
    data_dir,
    load_dataset,
    load_fer2013,
    load_fer2013_csv,
    load_image_folder,
    read_fer2013_csv,
    split_validation,
)
from emolens.explain.data.labels import CLASS_SETS, EMO3, FER7, class_index, class_names

__all__ = [
    "CLASS_SETS",
    "EMO3",
    "FER7",
    "Dataset",
    "class_index",
    "class_names",
    "data_dir",
    "load_dataset",
    "load_fer2013",
    "load_fer2013_csv",
    "load_image_folder",
    "read_fer2013_csv",
    "split_validation",
]
