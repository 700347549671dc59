"""Deploying emolens models: ONNX export (with Grad-CAM inside) and Hugging Face Space folders."""

from emolens.models.export.onnx import OPSET, ExportInfo, export_onnx
from emolens.models.export.space import export_space

__all__ = ["OPSET", "ExportInfo", "export_onnx", "export_space"]
