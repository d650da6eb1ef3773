"""Models: one packaging format for trained models, flavors, signatures, serving and batch scoring."""
