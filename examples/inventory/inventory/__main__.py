from inventory.cli import main

raise SystemExit(main())
