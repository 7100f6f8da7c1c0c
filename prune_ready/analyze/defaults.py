"""The analysis's default settings, apart from the code that needs pandas and scipy, so that the
command line can show them in --help without importing either."""

OUT_DIR = "analysis"  # default output folder, inside the one sweep directory given
DOSE_LEVELS = (100, 2.9, 1.2, 0.5, 0.33)  # % weights remaining of the dose-response figure
LEVELS = (0.5, 0.33)  # % weights remaining: the robustness measured
CHOOSE_BELOW = 4  # seeds < 4 choose the predictor, seeds >= 4 confirm it
# which test accuracy of a round is analysed: its value at the round's end (the next pruning
# step), or at the round's early stop (minimum validation loss: the lottery-ticket papers' measure)
ACCURACY = {"round_end": "test_acc", "early_stop": "test_acc_at_early_stop"}
