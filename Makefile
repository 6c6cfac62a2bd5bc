# edu-gen, two commands on a fresh machine:
#   make book   build the whole book into _build/html (executes every notebook)
#   make test   unit tests, the book build (every notebook executed once, a failing check
#               fails it), the build check, the browser check
# Both create .venv on first use; later runs reuse it and start in seconds.
# EDU_GEN_PROFILE=quick|full chooses the size of every training run (default: full on a
# CUDA GPU, quick elsewhere).

PYTHON ?= python3
# bash with pipefail: the build's log is kept (tee) and its failure still fails make.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV   := .venv
PY     := $(VENV)/bin/python
READY  := $(VENV)/.ready
BOOK   := $(VENV)/bin/jupyter-book build --all -W --keep-going .
# The build executes every notebook once; its log ends with each notebook's time.
BUILD_BOOK = mkdir -p _build && $(BOOK) 2>&1 | tee _build/book.log && \
	echo "notebook execution times:" && sed -n 's|^$(CURDIR)/\(.*\): Executed notebook in \(.*\) seconds.*|  \2 s  \1|p' _build/book.log
# Quiet progress bars in scripts and logs (notebooks draw theirs as widgets, kept in the site).
export TQDM_DISABLE := 1

.PHONY: book test unit notebooks site-check data system bench lock clean assignments grade \
	robustness full-cpu

book: data
	$(BUILD_BOOK)

# Each notebook runs once, in the build (nbval would run them all a second time; no cell's
# output is compared, so `make notebooks` is not part of the tests).
test: data unit
	$(BUILD_BOOK)
	$(MAKE) site-check

unit: $(READY)
	$(PY) -m pytest -rs --ignore=tests/site tests

notebooks: $(READY)
	$(PY) -m pytest -rs --nbval-lax --nbval-cell-timeout=3600 book

site-check: $(READY)
	$(PY) -m pytest -rs tests/site

bench: $(READY)
	$(PY) -m benchmarks

# The margin sweep (not in CI): every notebook for seed offsets 0 1 2 with 1 and 2 torch
# threads; writes book/appendix/margins_quick.csv and runs_quick.csv. NOTEBOOKS=... for some.
robustness: data
	$(PY) scripts/margin_sweep.py $(NOTEBOOKS)

# The full profile of the chapters that fit on a CPU (not in CI; see the appendix).
FULL_CPU ?= book/gan/minimax.ipynb book/gan/mode_collapse.ipynb book/exercises.ipynb
full-cpu: data
	$(PY) scripts/margin_sweep.py $(FULL_CPU) --profile full --offsets 0 --threads 2

# The image data (found or downloaded, edu_gen.data) and the spoken digits (made once by
# eSpeak NG and cached, about 15 s; without a synthesizer it stops with the install command).
data: $(READY) system
	$(PY) -m edu_gen.data
	$(PY) -m edu_gen.sound_data

# Optional Debian packages (Chromium for the browser check, Fashion-MNIST offline).
system:
	@sh scripts/system_packages.sh

$(READY): pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV) || { sh scripts/python_venv.sh $(PYTHON) && $(PYTHON) -m venv --clear $(VENV); } \
		|| { echo "could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements-lock.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (edu-gen)"
	touch $@

# Refresh the pinned versions after changing the dependencies in pyproject.toml.
lock: $(READY)
	$(PY) -m pip freeze --exclude-editable | grep -v '^edu-gen' > requirements-lock.txt

# Homework 1 (VAE), 2 (GAN) and 3 (the beta-VAE project), otter-grader: student and autograder
# notebooks, autograder zips; then the public tests that the notebooks fetch on Colab
# (homework/*/tests/, commit them) and each master's Colab cell. Instructors: homework/INSTRUCTORS.md.
assignments: $(READY)
	rm -rf _build/homework/hw1_vae _build/homework/hw2_gan _build/homework/hw3_rate_distortion
	$(PY) -m otter assign homework/hw1_vae/hw1_vae.ipynb _build/homework/hw1_vae
	$(PY) -m otter assign homework/hw2_gan/hw2_gan.ipynb _build/homework/hw2_gan
	$(PY) -m otter assign homework/hw3_rate_distortion/hw3_rate_distortion.ipynb _build/homework/hw3_rate_distortion
	$(PY) scripts/make_assignment.py --homework

# Grade a folder of submitted notebooks (with their outputs: the trained weights) into one CSV:
# make grade SUBMISSIONS=path/to/folder (HOMEWORK=hw2_gan for the GAN homework,
# HOMEWORK=hw3_rate_distortion for the project)
SUBMISSIONS ?= submissions
GRADES      ?= grades.csv
HOMEWORK    ?= hw1_vae
grade: $(READY)
	$(PY) scripts/grade.py $(SUBMISSIONS) --homework $(HOMEWORK) --out $(GRADES)

clean:
	rm -rf _build .jupyter_cache
