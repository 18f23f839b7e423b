"""ml4phys in a clone: ``python run.py task=ising model=cnn optimizer=adam optimizer.lr=3e-3``.

The same as the installed ``ml4phys`` command (:func:`physics.app.cli.main`); ``python run.py --help`` lists
the tasks and every key.
"""
from physics.app.cli import main

if __name__ == "__main__":
    main()
