"""Small, fast computations behind the Learn lessons (numpy only; nothing here imports torch).

Each lesson's demo answers in well under a second on one CPU core, so 20–30 students can share a
2-core server: the app never trains with torch for a lesson. Where a lesson shows a quantity the
lab's runs use (a schedule, a speed measurement), it calls the very engine function the runs call,
in a child process when that function lives in a torch module (see :mod:`engine.learn.probe`).
"""
