"""TensorFlow-free serving of exported models: onnxruntime + numpy + OpenCV, and a Gradio UI.

`runtime.py` and `ui.py` are copied verbatim into Hugging Face Space folders
(`emolens export-space`), so they import nothing from emolens and only each other, relatively.
"""
