"""Class activation maps: gradient-weighted (Grad-CAM and variants) and gradient-free ones."""
